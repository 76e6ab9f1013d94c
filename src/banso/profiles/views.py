"""The customer understanding profile (M12): the customer page's slot, and its own page.

Four layers: the industry, their business (goals, weekly and daily rhythm), the people (per key
contact: IT literacy, strengths, motivation) and their feelings while using the product.
Everyone signed in reads; CSMs and up write; a concurrent edit is offered as a merge.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.auth.models import User
from banso.documents.service import EditConflict
from banso.errors import InvalidInput
from banso.i18n import N_, gettext
from banso.profiles import service
from banso.profiles.schemas import AccountProfilePatch, ContactProfilePatch
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

FIELD_LABELS = {
    "industry_context": N_("Industry context"),
    "business_goals": N_("Business goals"),
    "rhythm": N_("Weekly and daily rhythm"),
    "feelings": N_("Feelings while using the product"),
    "strengths": N_("Strengths"),
    "motivation": N_("Motivation"),
    "notes": N_("Notes"),
    "it_literacy": N_("IT literacy"),
}
LITERACY_LABELS = {
    1: N_("1 — needs help with every screen"),
    2: N_("2 — uses what was shown"),
    3: N_("3 — finds their way alone"),
    4: N_("4 — sets things up for others"),
    5: N_("5 — builds integrations"),
}
ERRORS = {
    "it_literacy": N_("Choose an IT literacy from 1 to 5, or leave it empty."),
    "version": N_("Reload the page and edit again."),
}
TOO_LONG = N_("At most 100,000 characters, without NUL characters.")


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors(exc: ValidationError | InvalidInput) -> dict[str, str]:
    if isinstance(exc, InvalidInput):
        names = [e.field.split(".")[0] for e in exc.errors]
    else:
        names = [str(e["loc"][0]) if e.get("loc") else "_form" for e in exc.errors()]
    return {n: gettext(ERRORS.get(n, TOO_LONG)) for n in names}


def _profile(
    request: Request, session: Session, user: User, account_id: int,
    extra: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    found = service.account_profile(session, account_id)
    context = {
        "found": found,
        "account": found.account,
        "can_write": user.can_write,
        "labels": {k: gettext(v) for k, v in FIELD_LABELS.items()},
        "literacy_labels": {k: gettext(v) for k, v in LITERACY_LABELS.items()},
        "values": {},
        "errors": {},
        "conflict": None,
        "editing": None,
        **(extra or {}),
    }
    name = "profiles/_profile.html" if _is_htmx(request) else "profiles/profile.html"
    return render(request, name, context, status_code=status_code)


def _saved(request: Request, session: Session, user: User, account_id: int) -> Response:
    flash(request, gettext("Profile saved."))
    if _is_htmx(request):
        return _profile(request, session, user, account_id)
    return RedirectResponse(f"/customers/{account_id}/profile", status_code=303)


@router.get("/customers/{account_id:int}/profile", response_class=HTMLResponse)
def account_profile(
    request: Request, account_id: int, session: DbSession, user: SignedInUser
) -> Response:
    return _profile(request, session, user, account_id)


@router.post("/customers/{account_id:int}/profile", response_class=HTMLResponse)
def save_account_profile(
    request: Request,
    account_id: int,
    session: DbSession,
    user: WriterUser,
    version: str = Form("0"),
    industry_context: str = Form(""),
    business_goals: str = Form(""),
    rhythm: str = Form(""),
    feelings: str = Form(""),
) -> Response:
    """Save the account's layers; a concurrent edit comes back as a merge to check."""
    values = {"version": version, "industry_context": industry_context,
              "business_goals": business_goals, "rhythm": rhythm, "feelings": feelings}  # fmt: skip
    try:
        patch = AccountProfilePatch.model_validate(values)
        service.update_account_profile(session, actor_of(user), account_id, patch)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        extra: dict[str, Any] = {"values": values, "errors": _errors(exc), "editing": "account"}
        return _profile(request, session, user, account_id, extra, 422)
    except EditConflict as conflict:
        session.rollback()
        values["version"] = str(conflict.current_version)
        extra = {"values": values, "conflict": conflict, "editing": "account"}
        return _profile(request, session, user, account_id, extra, 409)
    return _saved(request, session, user, account_id)


@router.post(
    "/customers/{account_id:int}/profile/contacts/{contact_id:int}", response_class=HTMLResponse
)
def save_contact_profile(
    request: Request,
    account_id: int,
    contact_id: int,
    session: DbSession,
    user: WriterUser,
    version: str = Form("0"),
    it_literacy: str = Form(""),
    strengths: str = Form(""),
    motivation: str = Form(""),
    notes: str = Form(""),
) -> Response:
    """Save what we know of one of the customer's people."""
    values = {"version": version, "it_literacy": it_literacy.strip() or None,
              "strengths": strengths, "motivation": motivation, "notes": notes}  # fmt: skip
    editing = f"contact-{contact_id}"
    try:
        patch = ContactProfilePatch.model_validate(values)
        service.update_contact_profile(session, actor_of(user), account_id, contact_id, patch)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        extra: dict[str, Any] = {"values": values, "errors": _errors(exc), "editing": editing}
        return _profile(request, session, user, account_id, extra, 422)
    except EditConflict as conflict:
        session.rollback()
        values["version"] = str(conflict.current_version)
        extra = {"values": values, "conflict": conflict, "editing": editing}
        return _profile(request, session, user, account_id, extra, 409)
    return _saved(request, session, user, account_id)
