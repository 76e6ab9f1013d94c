"""Observation log pages: the sessions, one session (its moments, the quick moment form, the
KPT retrospective), the friction points across customers by step and their CSV export.

Everyone signed in reads; CSMs and up write. A moment is added in place by HTMX (the form
comes back empty but for the step and kind, focused for the next one) or by a plain POST.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.accounts.service import find
from banso.auth.models import User
from banso.auth.service import list_users
from banso.documents.service import EditConflict
from banso.errors import InvalidInput
from banso.i18n import N_, gettext
from banso.imports.export import Export, csv_chunks
from banso.observations import service
from banso.observations.models import MOMENT_KINDS, ObservationSession
from banso.observations.schemas import KptEdit, MomentIn, SessionEdit, SessionIn
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of, today_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

# The columns of the friction export for the product team.
CSV_HEADER = (
    N_("Held at"), N_("Customer"), N_("Session"), N_("Step"), N_("Screen"), N_("Kind"),
    N_("Severity"), N_("Note"), N_("Time in recording"), N_("Recording link"), N_("Session page"),
)  # fmt: skip

KIND_LABELS = {
    "irritation": N_("Irritation"),
    "confusion": N_("Confusion"),
    "idea": N_("Idea"),
}
KIND_ICONS = {"irritation": "💢", "confusion": "❓", "idea": "💡"}
SEVERITY_LABELS = {1: N_("1 · minor"), 2: N_("2 · slows them down"), 3: N_("3 · blocks them")}
KPT_LABELS = {"keep": N_("Keep"), "problem": N_("Problem"), "try_next": N_("Try")}
DETAIL_LABELS = {"title": N_("Title"), "customer_role": N_("Who used the product (their role)")}
ERRORS = {
    "account_id": N_("Choose the customer."),
    "title": N_("Give the session a title of at most 300 characters."),
    "held_at": N_("Enter when the session was held (date and time)."),
    "customer_role": N_(
        "Say who used the product, e.g. 経理担当（初めて使う）, at most 200 characters."
    ),
    "contact_id": N_("Choose one of this customer's contacts, or nobody."),
    "observer_id": N_("Choose one of the users."),
    "recording_url": N_("Give the recording's web address, starting with https:// or http://."),
    "kind": N_("Choose irritation, confusion or idea."),
    "step": N_("Name the step, e.g. 初期設定 > CSV取込 (at most 200 characters)."),
    "screen": N_("The screen's name is too long: at most 200 characters."),
    "note": N_("The note is too long: at most 10,000 characters."),
    "severity": N_("Choose a severity from 1 to 3."),
    "at_seconds": N_("Write the time in the recording as seconds (95) or m:ss (1:35)."),
    "keep": N_("Too long: at most 100,000 characters."),
    "problem": N_("Too long: at most 100,000 characters."),
    "try_next": N_("Too long: at most 100,000 characters."),
    "version": N_("Reload the page and edit again."),
    "from": N_("Enter the start as a date (YYYY-MM-DD)."),
    "to": N_("Enter the end as a date (YYYY-MM-DD), not before the start."),
}
PAGE_SIZE = 30


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors(exc: ValidationError | InvalidInput) -> dict[str, str]:
    names = (
        [str(e["loc"][0]) if e["loc"] else "version" for e in exc.errors()]
        if isinstance(exc, ValidationError)
        else [e.field.split(".")[0] for e in exc.errors]
    )
    return {n: gettext(ERRORS.get(n, ERRORS["version"])) for n in names}


def _helpers() -> dict[str, Any]:
    return {
        "kind_labels": {k: gettext(v) for k, v in KIND_LABELS.items()},
        "kind_icons": KIND_ICONS,
        "severity_labels": {k: gettext(v) for k, v in SEVERITY_LABELS.items()},
        "kpt_labels": {k: gettext(v) for k, v in KPT_LABELS.items()},
        "moment_link": service.moment_link,
        "clock": _clock,
    }


def _clock(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _zone(request: Request) -> ZoneInfo:
    return ZoneInfo(getattr(request.app.state.settings, "timezone", None) or "Asia/Tokyo")


def _int(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 1 <= value <= 2**31 - 1 else None


def _users(session: Session) -> list[User]:
    return [u for u in list_users(session) if u.is_active]


# ---------------------------------------------------------------- sessions


@router.get("/observations", response_class=HTMLResponse)
def observations(
    request: Request, session: DbSession, user: SignedInUser,
    account_id: str = "", observer_id: str = "", cursor: str = "",
) -> Response:  # fmt: skip
    f = service.SessionFilter(account_id=_int(account_id), observer_id=_int(observer_id))
    found = service.list_sessions(session, f, cursor=cursor or None, limit=PAGE_SIZE)
    ids = [s.id for s in found.items]
    accounts = dict(
        session.execute(
            select(Account.id, Account.name).where(
                Account.id.in_({s.account_id for s in found.items} | {f.account_id or 0})
            )
        ).all()
    )
    query = {
        k: v for k, v in {"account_id": f.account_id, "observer_id": f.observer_id}.items() if v
    }
    context = {
        "sessions": found.items, "next_cursor": found.next_cursor, "filter": f,
        "counts": service.moment_counts(session, ids), "accounts": accounts,
        "users": {u.id: u for u in list_users(session)}, "query": urlencode(query),
        "can_write": user.can_write, **_helpers(),
    }  # fmt: skip
    return render(request, "observations/list.html", context)


def _new_form(
    request: Request, session: Session, values: dict[str, Any], errors: dict[str, str],
    status_code: int = 200,
) -> Response:  # fmt: skip
    account = find(session, Account, _int(str(values.get("account_id") or "")) or 0)
    contacts = (
        list(session.scalars(select(Contact).where(Contact.account_id == account.id)
                             .order_by(Contact.name).limit(500)))
        if account else []
    )  # fmt: skip
    accounts = [] if account else list(
        session.execute(
            select(Account.id, Account.name).order_by(Account.name).limit(1000)
        ).all()
    )  # fmt: skip
    context = {
        "values": values, "errors": errors, "account": account, "contacts": contacts,
        "accounts": accounts, "users": _users(session),
    }  # fmt: skip
    return render(request, "observations/new.html", context, status_code=status_code)


@router.get("/observations/new", response_class=HTMLResponse)
def new_session(
    request: Request, session: DbSession, user: SignedInUser, account_id: str = ""
) -> Response:
    if not user.can_write:
        flash(request, gettext("Viewers can read the observation log but not write in it."),
              "warning")  # fmt: skip
        return RedirectResponse("/observations", status_code=303)
    now = datetime.now(_zone(request)).replace(second=0, microsecond=0, tzinfo=None)
    values = {"account_id": account_id, "title": "", "held_at": now.isoformat(timespec="minutes"),
              "customer_role": "", "contact_id": "", "observer_id": str(user.id),
              "recording_url": ""}  # fmt: skip
    return _new_form(request, session, values, {})


def _local_datetime(text: str, zone: ZoneInfo) -> datetime | str:
    """A datetime-local field's value ("2025-06-01T14:30") in the workspace timezone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return text  # the schema refuses it with the field's message
    return value if value.tzinfo else value.replace(tzinfo=zone)


@router.post("/observations", response_class=HTMLResponse)
def create_session(
    request: Request, session: DbSession, user: WriterUser,
    account_id: str = Form(""), title: str = Form(""), held_at: str = Form(""),
    customer_role: str = Form(""), contact_id: str = Form(""), observer_id: str = Form(""),
    recording_url: str = Form(""),
) -> Response:  # fmt: skip
    values = {"account_id": account_id, "title": title, "held_at": held_at,
              "customer_role": customer_role, "contact_id": contact_id,
              "observer_id": observer_id, "recording_url": recording_url}  # fmt: skip
    try:
        data = SessionIn(**{**values, "held_at": _local_datetime(held_at, _zone(request))})
        observation = service.create_session(session, actor_of(user), data)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        return _new_form(request, session, values, _errors(exc), 422)
    flash(request, gettext("The session was created. Record moments as you watch."))
    return RedirectResponse(f"/observations/{observation.id}", status_code=303)


# ---------------------------------------------------------------- one session


def _local_input(value: datetime, zone: ZoneInfo) -> str:
    """A datetime-local field's value for a stored time, in the workspace timezone."""
    local = value.astimezone(zone).replace(tzinfo=None, microsecond=0)
    return local.isoformat(timespec="seconds" if local.second else "minutes")


def _details_form(
    session: Session, observation: ObservationSession, zone: ZoneInfo
) -> dict[str, Any]:
    """What the details form needs: the stored values, the account's contacts, the users."""
    values = {k: getattr(observation, k) or "" for k in service.DETAIL_FIELDS}
    values["held_at"] = _local_input(observation.held_at, zone)
    contacts = session.scalars(
        select(Contact).where(Contact.account_id == observation.account_id)
        .order_by(Contact.name).limit(500)
    )  # fmt: skip
    users = _users(session)
    observer = find(session, User, observation.observer_id) if observation.observer_id else None
    if observer is not None and observer not in users:  # left since: still selectable
        users.append(observer)
    return {
        "details": {k: str(v) for k, v in values.items()}, "details_errors": {},
        "details_version": observation.version, "details_conflict": None,
        "details_contacts": list(contacts), "details_users": users,
        "detail_labels": {k: gettext(v) for k, v in DETAIL_LABELS.items()},
    }  # fmt: skip


def _session_page(
    request: Request, session: Session, user: User, observation: ObservationSession,
    extra: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    contact = find(session, Contact, observation.contact_id) if observation.contact_id else None
    observer = find(session, User, observation.observer_id) if observation.observer_id else None
    context = {
        "observation": observation, "account": find(session, Account, observation.account_id),
        "contact": contact, "observer": observer,
        "moments": service.moments_of(session, observation.id), "can_write": user.can_write,
        "moment_values": {"kind": "irritation", "severity": "1"}, "moment_errors": {},
        "kpt": {k: getattr(observation, k) for k in service.KPT_FIELDS},
        "kpt_version": observation.version, "kpt_errors": {}, "conflict": None,
        **(_details_form(session, observation, _zone(request)) if user.can_write else {}),
        **_helpers(), **(extra or {}),
    }  # fmt: skip
    return render(request, "observations/session.html", context, status_code=status_code)


@router.get("/observations/{observation_id:int}", response_class=HTMLResponse)
def show_session(
    request: Request, observation_id: int, session: DbSession, user: SignedInUser
) -> Response:
    observation = service.get_session(session, observation_id)
    return _session_page(request, session, user, observation)


@router.post("/observations/{observation_id:int}/details", response_class=HTMLResponse)
def save_details(
    request: Request, observation_id: int, session: DbSession, user: WriterUser,
    title: str = Form(""), held_at: str = Form(""), customer_role: str = Form(""),
    contact_id: str = Form(""), observer_id: str = Form(""), recording_url: str = Form(""),
    version: str = Form(""),
) -> Response:  # fmt: skip
    observation = service.get_session(session, observation_id)
    values = {"title": title, "held_at": held_at, "customer_role": customer_role,
              "contact_id": contact_id, "observer_id": observer_id,
              "recording_url": recording_url}  # fmt: skip
    extra: dict[str, Any]
    try:
        when = _local_datetime(held_at, _zone(request))
        data = SessionEdit(**{**values, "held_at": when, "version": version})
        changed = service.update_session(session, actor_of(user), observation, data)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        extra = {"details": values, "details_errors": _errors(exc), "details_version": version}
        return _session_page(request, session, user, observation, extra, 422)
    except EditConflict as conflict:
        session.rollback()
        extra = {"details": values, "details_conflict": conflict,
                 "details_version": conflict.current_version}  # fmt: skip
        return _session_page(request, session, user, observation, extra, 409)
    flash(request, gettext("Session details saved.") if changed else gettext("Nothing changed."))
    return RedirectResponse(f"/observations/{observation.id}", status_code=303)


@router.post("/observations/{observation_id:int}/kpt", response_class=HTMLResponse)
def save_kpt(
    request: Request, observation_id: int, session: DbSession, user: WriterUser,
    keep: str = Form(""), problem: str = Form(""), try_next: str = Form(""),
    version: str = Form(""),
) -> Response:  # fmt: skip
    observation = service.get_session(session, observation_id)
    kpt = {"keep": keep, "problem": problem, "try_next": try_next}
    extra: dict[str, Any]
    try:
        data = KptEdit(**kpt, version=version)
        changed = service.save_kpt(session, actor_of(user), observation, data)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        extra = {"kpt": kpt, "kpt_errors": _errors(exc), "kpt_version": version}
        return _session_page(request, session, user, observation, extra, 422)
    except EditConflict as conflict:
        session.rollback()
        extra = {
            "kpt": kpt,
            "conflict": conflict,
            "kpt_version": conflict.current_version,
        }
        return _session_page(request, session, user, observation, extra, 409)
    flash(request, gettext("KPT saved.") if changed else gettext("Nothing changed."))
    return RedirectResponse(f"/observations/{observation.id}#kpt", status_code=303)


def _moment_form(
    request: Request, session: Session, observation: ObservationSession,
    values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
) -> Response:  # fmt: skip
    context = {
        "observation": observation, "moment_values": values, "moment_errors": errors,
        "moments": service.moments_of(session, observation.id), "refresh_list": not errors,
        "can_write": True,
        **_helpers(),
    }  # fmt: skip
    return render(request, "observations/_moment_form.html", context, status_code=status_code)


@router.post("/observations/{observation_id:int}/moments", response_class=HTMLResponse)
def add_moment(
    request: Request, observation_id: int, session: DbSession, user: WriterUser,
    kind: str = Form(""), step: str = Form(""), screen: str = Form(""), note: str = Form(""),
    severity: str = Form("1"), at_seconds: str = Form(""), recording_url: str = Form(""),
) -> Response:  # fmt: skip
    observation = service.get_session(session, observation_id)
    values = {"kind": kind, "step": step, "screen": screen, "note": note, "severity": severity,
              "at_seconds": at_seconds, "recording_url": recording_url}  # fmt: skip
    try:
        data = MomentIn(**values)
        service.add_moment(session, actor_of(user), observation, data)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        if _is_htmx(request):
            return _moment_form(request, session, observation, values, _errors(exc), 422)
        extra = {"moment_values": values, "moment_errors": _errors(exc)}
        return _session_page(request, session, user, observation, extra, 422)
    # The next moment is often at the same step: keep it, the kind and severity; clear the rest.
    kept = {"kind": kind, "step": step, "screen": screen, "severity": severity}
    if _is_htmx(request):
        return _moment_form(request, session, observation, kept, {})
    flash(request, gettext("Moment recorded."))
    return RedirectResponse(f"/observations/{observation.id}#moments", status_code=303)


@router.post(
    "/observations/{observation_id:int}/moments/{moment_id:int}/delete",
    response_class=HTMLResponse,
)
def delete_moment(
    request: Request, observation_id: int, moment_id: int, session: DbSession, user: WriterUser
) -> Response:
    observation = service.get_session(session, observation_id)
    service.delete_moment(session, actor_of(user), observation, moment_id)
    flash(request, gettext("Moment deleted."))
    return RedirectResponse(f"/observations/{observation.id}#moments", status_code=303)


# ---------------------------------------------------------------- friction across customers


def _friction_filter(
    request: Request, from_: str, to: str, kind: str
) -> tuple[service.FrictionFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    zone = _zone(request)
    since = until = None
    try:
        if from_.strip():
            since = datetime.combine(date.fromisoformat(from_.strip()), time(), zone)
    except ValueError:
        errors["from"] = gettext(ERRORS["from"])
    try:
        if to.strip():  # the end date counts in full
            until = datetime.combine(
                date.fromisoformat(to.strip()) + timedelta(days=1), time(), zone
            )
    except (ValueError, OverflowError):
        errors["to"] = gettext(ERRORS["to"])
    if kind and kind not in MOMENT_KINDS:
        errors["kind"] = gettext(ERRORS["kind"])
    if since and until and until <= since:
        errors["to"] = gettext(ERRORS["to"])
    if errors:
        return service.FrictionFilter(), errors
    return service.FrictionFilter(since=since, until=until, kind=kind or None), errors


@router.get("/observations/friction", response_class=HTMLResponse)
def friction(
    request: Request, session: DbSession, user: SignedInUser,
    from_: str = "", to: str = "", kind: str = "",
) -> Response:  # fmt: skip
    from_ = request.query_params.get("from", from_)
    f, errors = _friction_filter(request, from_, to, kind)
    values = {"from": from_, "to": to, "kind": kind}
    context = {
        "items": [] if errors else service.friction(session, f), "errors": errors,
        "values": values, "query": urlencode({k: v for k, v in values.items() if v}),
        "today": today_of(request), **_helpers(),
    }  # fmt: skip
    return render(
        request, "observations/friction.html", context, status_code=422 if errors else 200
    )


def _cell(text: str) -> str:
    """Text Excel would take for a formula (=, +, @) is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "@", "\t", "\r") else text


@router.get("/observations/friction.csv")
def friction_csv(
    request: Request, session: DbSession, user: SignedInUser, to: str = "", kind: str = ""
) -> Response:
    """Every counted moment, one row each, for the product team (UTF-8 with a BOM for Excel)."""
    f, errors = _friction_filter(request, request.query_params.get("from", ""), to, kind)
    if errors:
        raise InvalidInput.one(next(iter(errors)), next(iter(errors.values())))
    base = str(request.base_url).rstrip("/")
    header = [gettext(label) for label in CSV_HEADER]
    kinds = _helpers()["kind_labels"]
    rows = (
        [
            r.observation.held_at.astimezone(_zone(request)).strftime("%Y-%m-%d %H:%M"),
            _cell(r.account_name), _cell(r.observation.title), _cell(r.moment.step),
            _cell(r.moment.screen or ""), kinds[r.moment.kind], r.moment.severity,
            _cell(r.moment.note),
            _clock(r.moment.at_seconds), r.link or "", f"{base}/observations/{r.observation.id}",
        ]
        for r in service.friction_moments(session, f)
    )  # fmt: skip
    body = b"".join(csv_chunks(Export(header=header, rows=rows), "utf-8"))
    name = f"friction-{today_of(request).isoformat()}.csv"
    return Response(
        body, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
