"""Timeline pages: a customer's timeline (the customer page's slot), one entry with its history,
the troubles across customers, and the admin's cancellation reasons.

Everyone signed in reads; CSMs and up write; admins keep the reasons. The logic lives in the
service; routes parse the form, call one function and render.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.accounts.service import get_account
from banso.auth.models import User
from banso.documents.service import EditConflict, history
from banso.errors import Conflict, InvalidInput
from banso.i18n import N_, gettext
from banso.timeline import forms, reasons, service
from banso.timeline.models import ENTRY_KINDS, TROUBLE_SEVERITIES, TimelineEntry
from banso.timeline.schemas import ReasonIn, ReasonPatch
from banso.timeline.stream import StreamItem
from banso.web.deps import AdminUser, DbSession, SignedInUser, WriterUser, actor_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

KIND_LABELS = {
    "hearing": N_("Hearing"),
    "trouble": N_("Trouble"),
    "call": N_("Call"),
    "email": N_("E-mail"),
    "cancellation_interview": N_("Cancellation interview"),
    "note": N_("Note"),
    "meeting": N_("Meeting"),
    "contract_movement": N_("Contract"),
    "health_change": N_("Health"),
}
SEVERITY_LABELS = {
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "critical": N_("Critical"),
}
STATUS_LABELS = {"open": N_("Open"), "in_progress": N_("In progress"), "resolved": N_("Resolved")}
MOVEMENT_LABELS = {
    "new": N_("New contract"),
    "expansion": N_("Expansion"),
    "contraction": N_("Contraction"),
    "renewal": N_("Renewal"),
    "churn": N_("Churn"),
    "reactivation": N_("Reactivation"),
}
FIELD_LABELS = {
    "title": N_("Title"),
    "body": N_("Text (Markdown)"),
    "resolution": N_("Resolution"),
    "hypothesis": N_("Our hypothesis"),
    "improvement": N_("Proposed improvement"),
    # The other fields, as the history lists them.
    "kind": N_("Kind"),
    "occurred_at": N_("When"),
    "contact_id": N_("Contact"),
    "severity": N_("Severity"),
    "status": N_("Status"),
    "resolved_at": N_("Resolved at"),
    "reason_keys": N_("Reasons"),
}
MEETING_STATUS_LABELS = {
    "planned": N_("Planned"),
    "held": N_("Held"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}
PAGE_SIZE = 30


def _timezone(request: Request) -> str:
    return str(getattr(request.app.state.settings, "timezone", None) or "Asia/Tokyo")


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _labels() -> dict[str, Any]:
    return {
        "kind_labels": {k: gettext(v) for k, v in KIND_LABELS.items()},
        "severity_labels": {k: gettext(v) for k, v in SEVERITY_LABELS.items()},
        "status_labels": {k: gettext(v) for k, v in STATUS_LABELS.items()},
        "movement_labels": {k: gettext(v) for k, v in MOVEMENT_LABELS.items()},
        "meeting_status_labels": {k: gettext(v) for k, v in MEETING_STATUS_LABELS.items()},
        "labels": {k: gettext(v) for k, v in FIELD_LABELS.items()},
        "entry_kinds": ENTRY_KINDS,
        "severities": TROUBLE_SEVERITIES,
        "duration": forms.duration_text,
    }


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return render(request, name, _labels() | context, status_code=status_code)


# ---------------------------------------------------------------- a customer's timeline


def _blank_entry(request: Request, kind: str) -> dict[str, Any]:
    now = datetime.now(ZoneInfo(_timezone(request)))
    return {"kind": kind if kind in ENTRY_KINDS else "hearing", "occurred_at":
            now.strftime("%Y-%m-%dT%H:%M"), "reason_keys": [], "status": "open"}  # fmt: skip


def _older_url(account_id: int, kinds: list[str], last: StreamItem) -> str:
    query = urlencode([("kind", k) for k in kinds] + [("before", service.stream_cursor(last))])
    return f"/customers/{account_id}/timeline?{query}"


def _timeline(
    request: Request, session: Session, user: User, account: Account,
    kinds: list[str], before: str | None, extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    chosen = [k for k in kinds if k in service.STREAM_KINDS]
    items = service.account_stream(
        session, account.id, kinds=chosen or None, before=before, limit=PAGE_SIZE + 1
    )
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    found = service.people(session, account.id)
    context = {
        "account": account,
        "items": items,
        "chosen": chosen,
        "stream_kinds": service.STREAM_KINDS,
        "older_url": _older_url(account.id, chosen, items[-1]) if more and items else None,
        "reasons": reasons.all_reasons(session, active_only=True),
        "reason_labels": reasons.labels(session),
        "people": found,
        "user_names": found.user_names(),
        "contact_names": found.contact_names(),
        "can_write": user.can_write,
        "values": _blank_entry(request, request.query_params.get("new", "hearing")),
        "errors": {},
        "open_form": False,
        **(extra or {}),
    }
    name = "timeline/_timeline.html" if _is_htmx(request) else "timeline/timeline.html"
    return _render(request, name, context, status_code)


@router.get("/customers/{account_id:int}/timeline", response_class=HTMLResponse)
def account_timeline(
    request: Request,
    account_id: int,
    session: DbSession,
    user: SignedInUser,
    kind: list[str] = Query([]),
    before: str | None = None,
) -> Response:
    account = get_account(session, account_id)
    return _timeline(request, session, user, account, kind, before)


@router.post("/customers/{account_id:int}/timeline", response_class=HTMLResponse)
def add_entry(
    request: Request,
    account_id: int,
    session: DbSession,
    user: WriterUser,
    kind: str = Form(""),
    title: str = Form(""),
    body: str = Form(""),
    occurred_at: str = Form(""),
    contact_id: str = Form(""),
    severity: str = Form(""),
    status: str = Form(""),
    resolution: str = Form(""),
    resolved_at: str = Form(""),
    reason_keys: list[str] = Form([]),
    hypothesis: str = Form(""),
    improvement: str = Form(""),
) -> Response:
    """Write an entry on the customer's timeline."""
    account = get_account(session, account_id)
    form = {"kind": kind, "title": title, "body": body, "occurred_at": occurred_at,
            "contact_id": contact_id, "severity": severity, "status": status,
            "resolution": resolution, "resolved_at": resolved_at, "reason_keys": reason_keys,
            "hypothesis": hypothesis, "improvement": improvement}  # fmt: skip
    try:
        data = forms.entry_in(form, account.id, _timezone(request))
        entry = service.create_entry(session, actor_of(user), data)
    except InvalidInput as exc:
        session.rollback()
        extra = {"values": forms.submitted(form, reason_keys), "errors": forms.field_errors(exc),
                 "open_form": True}  # fmt: skip
        return _timeline(request, session, user, account, [], None, extra, 422)
    flash(request, gettext("Entry added to the timeline."))
    if _is_htmx(request):
        return _timeline(request, session, user, account, [], None)
    return RedirectResponse(f"/timeline/{entry.id}", status_code=303)


# ---------------------------------------------------------------- one entry


def _entry_page(
    request: Request, session: Session, user: User, entry: TimelineEntry,
    extra: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    found = service.people(session, entry.account_id)
    context = {
        "entry": entry,
        "account": get_account(session, entry.account_id),
        "mentions": service.mentioned(session, entry.id),
        "revisions": history(session, service.ENTITY, entry.id),
        "reasons": reasons.all_reasons(session),
        "reason_labels": reasons.labels(session),
        "people": found,
        "user_names": found.user_names(),
        "contact_names": found.contact_names(),
        "resolution_time": service.resolution_time(entry),
        "can_write": user.can_write,
        "values": forms.form_values(entry, _timezone(request)),
        "errors": {},
        "conflict": None,
        **(extra or {}),
    }
    return _render(request, "timeline/entry.html", context, status_code)


@router.get("/timeline/{entry_id:int}", response_class=HTMLResponse)
def entry_page(
    request: Request, entry_id: int, session: DbSession, user: SignedInUser, delete: str = ""
) -> Response:
    """The entry; ``?delete=1`` asks a writer to confirm deleting it."""
    extra = {"confirm_delete": delete == "1" and user.can_write}
    return _entry_page(request, session, user, service.get_entry(session, entry_id), extra)


@router.post("/timeline/{entry_id:int}", response_class=HTMLResponse)
def edit_entry(
    request: Request,
    entry_id: int,
    session: DbSession,
    user: WriterUser,
    version: str = Form(""),
    title: str = Form(""),
    body: str = Form(""),
    occurred_at: str = Form(""),
    contact_id: str = Form(""),
    severity: str = Form(""),
    status: str = Form(""),
    resolution: str = Form(""),
    resolved_at: str = Form(""),
    reason_keys: list[str] = Form([]),
    hypothesis: str = Form(""),
    improvement: str = Form(""),
) -> Response:
    """Save an edit; when someone saved in between, offer the merge and save nothing."""
    entry = service.get_entry(session, entry_id)
    form = {"version": version, "title": title, "body": body, "occurred_at": occurred_at,
            "contact_id": contact_id, "severity": severity, "status": status,
            "resolution": resolution, "resolved_at": resolved_at, "reason_keys": reason_keys,
            "hypothesis": hypothesis, "improvement": improvement}  # fmt: skip
    values = forms.submitted(form, reason_keys) | {"kind": entry.kind}
    try:
        patch = forms.entry_patch(form, entry, _timezone(request))
        service.update_entry(session, actor_of(user), entry.id, patch)
    except InvalidInput as exc:
        session.rollback()
        extra: dict[str, Any] = {
            "values": values,
            "errors": forms.field_errors(exc),
            "editing": True,
        }
        return _entry_page(request, session, user, service.get_entry(session, entry_id), extra, 422)
    except EditConflict as conflict:
        session.rollback()
        values["version"] = conflict.current_version
        extra = {"values": values, "conflict": conflict, "editing": True}
        return _entry_page(request, session, user, service.get_entry(session, entry_id), extra, 409)
    flash(request, gettext("Saved."))
    return RedirectResponse(f"/timeline/{entry_id}", status_code=303)


@router.post("/timeline/{entry_id:int}/delete", response_class=HTMLResponse)
def delete_entry(
    request: Request, entry_id: int, session: DbSession, user: WriterUser,
    confirm: str = Form(""),
) -> Response:  # fmt: skip
    entry = service.get_entry(session, entry_id)
    account_id = entry.account_id
    if confirm != "yes":
        return RedirectResponse(f"/timeline/{entry_id}?delete=1", status_code=303)
    service.delete_entry(session, actor_of(user), entry_id, confirm=True)
    flash(request, gettext("The entry and its history were deleted."))
    return RedirectResponse(f"/customers/{account_id}/timeline", status_code=303)


# ---------------------------------------------------------------- troubles


@router.get("/troubles", response_class=HTMLResponse)
def troubles_page(
    request: Request,
    session: DbSession,
    user: SignedInUser,
    state: str = "open",
    status: str = "",
    severity: str = "",
    cursor: str | None = None,
) -> Response:
    resolved = state == "resolved"
    try:
        page = service.troubles(
            session, resolved=resolved, status=status or None, severity=severity or None,
            cursor=cursor, limit=PAGE_SIZE,
        )  # fmt: skip
        problem = ""
    except InvalidInput as exc:
        page = service.troubles(session, resolved=resolved, limit=PAGE_SIZE)
        problem, status, severity = str(exc), "", ""
    context = {"page": page, "resolved": resolved, "status": status, "severity": severity,
               "problem": problem}  # fmt: skip
    return _render(request, "timeline/troubles.html", context, 422 if problem else 200)


# ---------------------------------------------------------------- cancellation reasons

REASONS_PAGE = "/admin/cancellation-reasons"
REASON_ERRORS = {
    "key": N_(
        "Use lower-case letters, digits and _, starting with a letter (up to 40 characters)."
    ),
    "label_ja": N_("Give a Japanese label of at most 100 characters."),
    "label_en": N_("Give an English label of at most 100 characters."),
}


def _reasons_page(
    request: Request, session: Session, extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    context = {"rows": reasons.rows(session), "values": {}, "errors": {}, **(extra or {})}
    return _render(request, "timeline/reasons.html", context, status_code)


def _reason_errors(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        names = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        return {n: gettext(REASON_ERRORS.get(n, n)) for n in names}
    if isinstance(exc, Conflict):
        return {"key": gettext("A reason with this key already exists.")}
    return {"_form": str(exc)}


@router.get(REASONS_PAGE, response_class=HTMLResponse)
def reasons_page(request: Request, session: DbSession, user: AdminUser) -> Response:
    return _reasons_page(request, session)


@router.post(REASONS_PAGE, response_class=HTMLResponse)
def add_reason(
    request: Request, session: DbSession, user: AdminUser,
    key: str = Form(""), label_ja: str = Form(""), label_en: str = Form(""),
) -> Response:  # fmt: skip
    values = {"key": key, "label_ja": label_ja, "label_en": label_en}
    try:
        reasons.create_reason(session, actor_of(user), ReasonIn.model_validate(values))
    except (ValidationError, Conflict) as exc:
        session.rollback()
        return _reasons_page(
            request, session, {"values": values, "errors": _reason_errors(exc)}, 422
        )
    flash(request, gettext("Reason added."))
    return RedirectResponse(REASONS_PAGE, status_code=303)


@router.post(REASONS_PAGE + "/{key}", response_class=HTMLResponse)
def rename_reason(
    request: Request, key: str, session: DbSession, user: AdminUser,
    label_ja: str = Form(""), label_en: str = Form(""),
) -> Response:  # fmt: skip
    try:
        patch = ReasonPatch.model_validate({"label_ja": label_ja, "label_en": label_en})
        reasons.update_reason(session, actor_of(user), key, patch)
    except ValidationError as exc:
        session.rollback()
        errors = {"_form": f"{key}: " + "; ".join(_reason_errors(exc).values())}
        return _reasons_page(request, session, {"errors": errors}, 422)
    flash(request, gettext("Reason renamed."))
    return RedirectResponse(REASONS_PAGE, status_code=303)


@router.post(REASONS_PAGE + "/{key}/move", response_class=HTMLResponse)
def move_reason(
    request: Request, key: str, session: DbSession, user: AdminUser, direction: str = Form("")
) -> Response:
    reasons.move_reason(session, actor_of(user), key, direction)
    return RedirectResponse(REASONS_PAGE, status_code=303)


@router.post(REASONS_PAGE + "/{key}/active", response_class=HTMLResponse)
def retire_reason(
    request: Request, key: str, session: DbSession, user: AdminUser, active: str = Form("")
) -> Response:
    """Retire a reason (no longer offered; interviews that gave it keep it) or offer it again."""
    if active not in ("0", "1"):
        raise InvalidInput.one("active", gettext("Retire the reason or offer it again."))
    reasons.update_reason(session, actor_of(user), key, ReasonPatch(is_active=active == "1"))
    flash(
        request, gettext("Reason offered again.") if active == "1" else gettext("Reason retired.")
    )
    return RedirectResponse(REASONS_PAGE, status_code=303)


@router.post(REASONS_PAGE + "/{key}/delete", response_class=HTMLResponse)
def delete_reason(request: Request, key: str, session: DbSession, user: AdminUser) -> Response:
    """Delete a reason no interview gave; one in use can only be retired."""
    try:
        reasons.delete_reason(session, actor_of(user), key)
    except Conflict:
        session.rollback()
        message = gettext("Cancellation interviews give this reason, so it can only be retired.")
        return _reasons_page(request, session, {"errors": {"_form": message}}, 409)
    flash(request, gettext("Reason deleted."))
    return RedirectResponse(REASONS_PAGE, status_code=303)
