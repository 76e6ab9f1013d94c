"""Health pages: an account's health (the customer page's slot), the work queues, the backtest
with suggested weights, and the scorecards with their versions and a YAML editor.

Everyone signed in reads; CSMs and up record ratings; managers and admins run the backtest and
change scorecards. The logic lives in summary, queues, evaluation and editing; routes validate,
call one of them and render.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.accounts.service import get_account
from banso.auth.models import User
from banso.errors import Conflict, InvalidInput
from banso.health import editing, evaluation, queues, summary
from banso.health.backtest import MAX_HORIZON_DAYS, OUTCOMES
from banso.health.definitions import dump_yaml, standard_scorecard
from banso.health.service import add_rating, get_scorecard, scorecards, spec_of, versions
from banso.i18n import N_, format_date, format_number, gettext
from banso.web.deps import DbSession, ManagerUser, SignedInUser, WriterUser, actor_of, today_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

OUTCOME_LABELS = {
    "churn": N_("Churn"),
    "downsell": N_("Churn or contraction"),
    "contraction": N_("Contraction"),
    "renewal": N_("Renewal"),
    "expansion": N_("Expansion"),
}
TAB_LABELS = {"churn": N_("Churn follow-up"), "expansion": N_("Expansion")}
# What the user sees for a field a form got wrong (the services' own words are English).
RATING_ERRORS = {
    "value": N_("Enter a number from 0 to 100."),
    "expires_on": N_("Enter a date (YYYY-MM-DD) that is not in the past, or leave it empty."),
    "comment": N_("The comment is too long: at most 2,000 characters."),
    "measure": N_("Choose one of the scorecard's rating measures."),
}
BACKTEST_ERRORS = {
    "scorecard": N_("Choose a scorecard."),
    "from": N_("Enter the start as a date (YYYY-MM-DD)."),
    "to": N_("Enter the end as a date (YYYY-MM-DD), not before the start."),
    "horizon": N_("Enter a whole number of days from 1 to 730."),
    "outcome": N_("Choose one of the outcomes."),
}
APPLY_ERRORS = {
    "note": N_("The note is too long: at most 500 characters."),
}


def value_text(value: float | None) -> str:
    """A measure's raw value or points as people write them: 17, 0.62, 1,234, 12.5."""
    if value is None:
        return "—"
    number = float(value)
    if number.is_integer() or abs(number) >= 100:
        return format_number(round(number))
    if abs(number) >= 10:
        return format_number(number, 1)
    return format_number(round(number, 2))


def signed(value: float) -> str:
    """A change in whole points or percent, with its sign: +6, -47, 0."""
    number = round(value)
    return ("+" if number > 0 else "") + format_number(number)


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    helpers = {"value_text": value_text, "signed": signed}
    return render(request, name, helpers | context, status_code=status_code)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _translated(exc: InvalidInput, known: dict[str, str]) -> dict[str, str]:
    """Errors by field, in the reader's language where the form knows the field."""
    found: dict[str, str] = {}
    for e in exc.errors:
        name = e.field.split(".")[0]
        found.setdefault(name, gettext(known[name]) if name in known else e.message)
    return found


# ---------------------------------------------------------------- an account's health


def _chart(card_health: summary.CardHealth) -> dict[str, Any]:
    return {
        "type": "line",
        "labels": [format_date(day) for day, _score in card_health.history],
        "datasets": [
            {
                "label": card_health.card.name,
                "data": [round(score, 1) for _day, score in card_health.history],
            }
        ],
    }


def _account_health(
    request: Request,
    session: Session,
    user: User,
    account: Account,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    cards = summary.account_health(session, account.id, today_of(request))
    context = {
        "account": account,
        "cards": cards,
        "charts": {c.card.id: _chart(c) for c in cards},
        "can_rate": user.can_write,
        "rating": {"scorecard": None, "entered": {}, "errors": {}},
        **(extra or {}),
    }
    # Without JavaScript (or opened directly) the slot is a page of its own.
    name = "health/_account_health.html" if _is_htmx(request) else "health/account_health.html"
    return _render(request, name, context, status_code)


@router.get("/customers/{account_id:int}/health", response_class=HTMLResponse)
def account_health(
    request: Request, account_id: int, session: DbSession, user: SignedInUser
) -> Response:
    return _account_health(request, session, user, get_account(session, account_id))


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if value == value else None  # NaN is no number


@router.post("/customers/{account_id:int}/health/ratings", response_class=HTMLResponse)
def rate_account(
    request: Request,
    account_id: int,
    session: DbSession,
    user: WriterUser,
    scorecard: str = Form(""),
    measure: str = Form(""),
    value: str = Form(""),
    comment: str = Form(""),
    expires_on: str = Form(""),
) -> Response:
    """A CSM's rating (0-100) for a rating measure; it counts from the next scoring."""
    account = get_account(session, account_id)
    values = {"measure": measure, "value": value, "comment": comment, "expires_on": expires_on}
    errors: dict[str, str] = {}
    number = _number(value)
    if number is None:
        errors["value"] = gettext(RATING_ERRORS["value"])
    expires = None
    if expires_on.strip():
        try:
            expires = date.fromisoformat(expires_on.strip())
        except ValueError:
            errors["expires_on"] = gettext(RATING_ERRORS["expires_on"])
    if not errors and number is not None:
        try:
            add_rating(
                session, actor_of(user), account.id, measure, number, comment,
                today_of(request), expires,
            )  # fmt: skip
        except InvalidInput as exc:
            session.rollback()
            errors = _translated(exc, RATING_ERRORS)
    if errors:
        rating = {"scorecard": scorecard, "entered": values, "errors": errors}
        return _account_health(request, session, user, account, {"rating": rating}, 422)
    message = gettext("Rating saved. It counts in the score from the next scoring.")
    flash(request, message)
    if _is_htmx(request):
        return _account_health(request, session, user, account)
    return RedirectResponse(f"/customers/{account.id}", status_code=303)


# ---------------------------------------------------------------- work queues


def _page_number(text: str) -> int:
    try:
        return max(1, int(text))
    except ValueError:
        return 1


@router.get("/health/queues", response_class=HTMLResponse)
def queues_page(
    request: Request,
    session: DbSession,
    user: SignedInUser,
    tab: str = "churn",
    sort: str = "-mrr",
    page: str = "1",
) -> Response:
    tab = tab if tab in TAB_LABELS else "churn"
    sort_key, descending = queues.parse_sort(sort)
    sort = ("-" if descending else "") + sort_key
    found = queues.work_queues(session)
    shown = None
    today = today_of(request)
    if found is not None:
        chosen = found.churn if tab == "churn" else found.expansion
        shown = queues.page_of(session, chosen, sort, _page_number(page), today)
    context = {
        "queues": found,
        "shown": shown,
        "tab": tab,
        "tabs": TAB_LABELS,
        "sort": sort,
        "sort_key": sort_key,
        "descending": descending,
        "today": today,
        "fell_by": queues.FELL_BY,
        "flat_points": summary.FLAT_POINTS,
        "licence_full": queues.LICENCE_FULL,
    }
    return _render(request, "health/queues.html", context)


# ---------------------------------------------------------------- backtest


def _backtest_values(
    session: Session, today: date, given: Mapping[str, str | None]
) -> dict[str, str]:
    values = evaluation.default_values(session, today)
    values.update({k: v for k, v in given.items() if v})
    return values


def _backtest_page(
    request: Request,
    session: Session,
    values: dict[str, str],
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "values": values,
        "errors": {},
        "result": None,
        "cards": scorecards(session),
        "outcomes": [(k, gettext(OUTCOME_LABELS[k])) for k in OUTCOMES],
        "outcome_labels": OUTCOME_LABELS,
        "max_horizon": MAX_HORIZON_DAYS,
        "apply_errors": {},
    }
    if context["cards"]:
        try:
            form = evaluation.parse_form(session, values)
        except InvalidInput as exc:
            context["errors"] = _translated(exc, BACKTEST_ERRORS)
            status_code = 422
        else:
            result = evaluation.run(session, form, today_of(request))
            context |= {"result": result, "lift_chart": _lift_chart(result), "note": _note(result)}
    return _render(request, "health/backtest.html", context | (extra or {}), status_code)


def _lift_chart(result: evaluation.Backtest) -> dict[str, Any]:
    deciles = result.report.deciles
    return {
        "type": "bar",
        "labels": [str(d.decile) for d in deciles],
        "datasets": [
            {"label": gettext("Lift"), "data": [round(d.lift or 0.0, 2) for d in deciles]}
        ],
    }


def _note(result: evaluation.Backtest) -> str:
    s = result.suggestion
    if s is None:
        return ""
    auc = "-" if s.proposed_report.auc is None else f"{s.proposed_report.auc:.3f}"
    before = "-" if s.current_report.auc is None else f"{s.current_report.auc:.3f}"
    return gettext(
        "Suggested weights from the backtest (%(outcome)s within %(days)s days): "
        "AUC %(before)s → %(after)s on %(start)s – %(end)s"
    ) % {
        "outcome": gettext(OUTCOME_LABELS[result.form.outcome]),
        "days": result.form.horizon,
        "before": before,
        "after": auc,
        "start": s.test_dates[0].isoformat(),
        "end": s.test_dates[1].isoformat(),
    }


@router.get("/health/backtest", response_class=HTMLResponse)
def backtest_page(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    scorecard: str | None = None,
    start: str | None = Query(None, alias="from"),
    end: str | None = Query(None, alias="to"),
    horizon: str | None = None,
    outcome: str | None = None,
) -> Response:
    given = {"scorecard": scorecard, "from": start, "to": end, "horizon": horizon}
    values = _backtest_values(session, today_of(request), given | {"outcome": outcome})
    return _backtest_page(request, session, values)


@router.post("/health/backtest/apply", response_class=HTMLResponse)
def apply_suggested_weights(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    scorecard: str = Form(""),
    version: int = Form(0),
    weights: str = Form(""),
    note: str = Form(""),
    start: str = Form("", alias="from"),
    end: str = Form("", alias="to"),
    horizon: str = Form(""),
    outcome: str = Form(""),
) -> Response:
    """Save the weights the backtest suggested as a new version of the scorecard."""
    given = {"scorecard": scorecard, "from": start, "to": end, "horizon": horizon}
    values = _backtest_values(session, today_of(request), given | {"outcome": outcome})
    try:
        card = get_scorecard(session, scorecard)
        parsed = editing.parse_weights(weights, spec_of(session, card))
        card, changed = editing.apply_weights(
            session, actor_of(user), scorecard, version, parsed, note
        )
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        if isinstance(exc, Conflict):
            problem = gettext(
                "The scorecard changed while you looked at the backtest (it is at version "
                "%(version)s now). Nothing was saved; here is the backtest again."
            ) % {"version": (exc.current or {}).get("version", "?")}
        else:
            problem = "; ".join(_translated(exc, APPLY_ERRORS).values())
        extra = {"apply_errors": {"_form": problem}, "posted_note": note}
        status = 409 if isinstance(exc, Conflict) else 422
        return _backtest_page(request, session, values, extra, status)
    if changed:
        first, last = editing.scored_range(session, card)
        message = gettext("Saved as version %(version)s of %(name)s.") % {
            "version": card.current_version,
            "name": card.name,
        }
        if first and last:
            message += " " + gettext(
                "Past scores keep the weights they were computed with; to re-score them, run "
                "banso health score --from %(start)s --to %(end)s"
            ) % {"start": first.isoformat(), "end": last.isoformat()}
        flash(request, message)
    else:
        flash(request, gettext("These weights are already in force; nothing was saved."))
    return RedirectResponse(f"/health/scorecards/{card.key}", status_code=303)


# ---------------------------------------------------------------- scorecards


def _can_edit(user: User) -> bool:
    return user.role in ("admin", "manager")


def _starter_yaml() -> str:
    """A new scorecard to start from: the standard one under another key, not primary."""
    spec = standard_scorecard().model_copy(
        update={"key": "new_scorecard", "name": gettext("New scorecard"), "primary": False}
    )
    return dump_yaml([spec])


def _scorecards_page(
    request: Request,
    session: Session,
    user: User,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "rows": editing.scorecard_rows(session),
        "can_edit": _can_edit(user),
        "new_yaml": _starter_yaml(),
        "new_note": "",
        "errors": [],
    }
    return _render(request, "health/scorecards.html", context | (extra or {}), status_code)


@router.get("/health/scorecards", response_class=HTMLResponse)
def scorecards_page(request: Request, session: DbSession, user: SignedInUser) -> Response:
    return _scorecards_page(request, session, user)


@router.post("/health/scorecards", response_class=HTMLResponse)
def create_scorecard(
    request: Request,
    session: DbSession,
    user: ManagerUser,
    yaml: str = Form(""),
    note: str = Form(""),
) -> Response:
    try:
        card = editing.create_from_yaml(session, actor_of(user), yaml, note)
    except InvalidInput as exc:
        session.rollback()
        extra = {"new_yaml": yaml, "new_note": note, "errors": exc.errors, "open_new": True}
        return _scorecards_page(request, session, user, extra, 422)
    flash(request, gettext("Scorecard %(name)s created.") % {"name": card.name})
    return RedirectResponse(f"/health/scorecards/{card.key}", status_code=303)


def _version_number(text: str | None, known: set[int]) -> int | None:
    try:
        number = int(text or "")
    except ValueError:
        return None
    return number if number in known else None


def _scorecard_page(
    request: Request,
    session: Session,
    user: User,
    key: str,
    compare: tuple[str | None, str | None] = (None, None),
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    card = get_scorecard(session, key)
    spec = spec_of(session, card)
    history = versions(session, card)
    numbers = {v.number for v in history}
    a, b = (_version_number(c, numbers) for c in compare)
    compare_error = any(c for c in compare) and (a is None or b is None)
    if a is None or b is None:  # by default the version in force against the one before
        a, b = (
            (card.current_version - 1, card.current_version) if len(history) > 1 else (None, None)
        )
    weights = []
    if a is not None and b is not None:
        weights = editing.compare_weights([spec_of(session, card, a), spec_of(session, card, b)])
    first, last = editing.scored_range(session, card)
    context = {
        "card": card,
        "spec": spec,
        "total_weight": sum(m.weight for m in spec.measures) or 1.0,
        "versions": history,
        "compare": (a, b),
        "compare_error": compare_error,
        "weights": weights,
        "first_scored": first,
        "last_scored": last,
        "can_edit": _can_edit(user),
        "yaml": dump_yaml([spec]),
        "note": "",
        "errors": [],
    }
    code = 422 if compare_error and status_code == 200 else status_code
    return _render(request, "health/scorecard.html", context | (extra or {}), code)


@router.get("/health/scorecards/{card_key}", response_class=HTMLResponse)
def scorecard_page(
    request: Request,
    card_key: str,
    session: DbSession,
    user: SignedInUser,
    a: str | None = None,
    b: str | None = None,
) -> Response:
    return _scorecard_page(request, session, user, card_key, (a, b))


@router.post("/health/scorecards/{card_key}", response_class=HTMLResponse)
def save_scorecard_yaml(
    request: Request,
    card_key: str,
    session: DbSession,
    user: ManagerUser,
    yaml: str = Form(""),
    note: str = Form(""),
) -> Response:
    try:
        card, changed = editing.update_from_yaml(session, actor_of(user), card_key, yaml, note)
    except InvalidInput as exc:
        session.rollback()
        extra = {"yaml": yaml, "note": note, "errors": exc.errors, "open_editor": True}
        return _scorecard_page(request, session, user, card_key, extra=extra, status_code=422)
    if changed:
        flash(request, gettext("Saved as version %(version)s of %(name)s.") % {
            "version": card.current_version, "name": card.name})  # fmt: skip
    else:
        flash(request, gettext("Nothing changed; the scorecard stays at version %(version)s.")
              % {"version": card.current_version})  # fmt: skip
    return RedirectResponse(f"/health/scorecards/{card.key}", status_code=303)
