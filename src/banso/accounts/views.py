"""The customer page (Customer 360): header, contacts, contracts, deals, custom fields, slots,
and inline editing of one field at a time with the version the form was rendered with."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import customfields, overview
from banso.accounts.models import COMPANY_SIZES, CONTACT_ROLES, LIFECYCLE_STAGES, Account, Contact
from banso.accounts.service import create_contact, get_contact
from banso.auth.models import User
from banso.deals.models import PipelineStage
from banso.errors import Conflict, InvalidInput, NotFound
from banso.i18n import N_, gettext
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of, today_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

SLOTS = ("health", "usage", "profile", "timeline", "tasks", "journey")
# Slots their own capability renders at /customers/{id}/{slot} (a page of its own without HTMX).
OWN_SLOTS = ("health", "profile", "timeline", "tasks")
# Visible names of the standard fields (msgids; translated where shown).
FIELD_LABELS = {
    "name": N_("Company"),
    "name_kana": N_("Reading"),
    "industry": N_("Industry"),
    "company_size": N_("Company size"),
    "segment": N_("Segment"),
    "source": N_("Source"),
    "owner_id": N_("Owner"),
    "lifecycle_stage": N_("Lifecycle stage"),
    "tags": N_("Tags"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "title": N_("Job title"),
    "role": N_("Role"),
    "is_key_person": N_("Key person"),
}
# Visible names of the stored choice keys (msgids).
CHOICE_LABELS = {
    "considering": N_("Considering"),
    "initial_setup": N_("Initial setup"),
    "early_operation": N_("Early operation"),
    "stable": N_("Stable"),
    "churned": N_("Churned"),
    "decision_maker": N_("Decision maker"),
    "project_leader": N_("Project leader"),
    "project_office": N_("Project office"),
    "power_user": N_("Power user"),
    "user": N_("User"),
    "trial": N_("Trial"),
    "active": N_("Active"),
    "paused": N_("Paused"),
    "new": N_("New"),
    "expansion": N_("Expansion"),
    "contraction": N_("Contraction"),
    "renewal": N_("Renewal"),
    "churn": N_("Churn"),
    "reactivation": N_("Reactivation"),
}
CHOICES = {
    "company_size": COMPANY_SIZES,
    "lifecycle_stage": LIFECYCLE_STAGES,
    "role": CONTACT_ROLES,
}


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _owners(session: Session) -> list[User]:
    stmt = select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)
    return list(session.scalars(stmt))


def _definitions(session: Session, entity: str) -> list[Any]:
    return customfields.definitions(session, entity)


def _field(session: Session, entity: str, name: str) -> dict[str, Any]:
    """How a field is shown and edited: label, input kind and choices."""
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        for d in _definitions(session, entity):
            if d.key == key:
                return {"name": name, "custom": d, "kind": d.type, "choices": d.choices or []}
        raise NotFound("custom field", key)
    allowed = overview.ACCOUNT_FIELDS if entity == "account" else overview.CONTACT_FIELDS
    if name not in allowed:
        raise NotFound(f"{entity} field", name)
    kind = "choice" if name in CHOICES else "user" if name == "owner_id" else "text"
    if name == "is_key_person":
        kind = "checkbox"
    return {"name": name, "label": FIELD_LABELS[name], "kind": kind, "choices": CHOICES.get(name)}


def _page_context(session: Session, request: Request, account_id: int) -> dict[str, Any]:
    data = overview.overview(session, account_id, today_of(request))
    return {
        "o": data,
        "account": data.account,
        "chart": json.dumps(overview.chart_data(data.series, gettext("MRR")), ensure_ascii=False),
        "account_fields": overview.ACCOUNT_FIELDS[1:],
        "definitions": _definitions(session, "account"),
        "contact_definitions": _definitions(session, "contact"),
        "owners": {u.id: u for u in _owners(session)},
        "field_labels": FIELD_LABELS,
        "choice_labels": CHOICE_LABELS,
        "slots": SLOTS,
        "own_slots": OWN_SLOTS,
        "roles": CONTACT_ROLES,
        "stages": {st.key: st for st in session.scalars(select(PipelineStage))},
    }


@router.get("/customers/{account_id:int}", response_class=HTMLResponse)
def customer_page(
    request: Request, account_id: int, session: DbSession, user: SignedInUser
) -> Response:
    try:
        context = _page_context(session, request, account_id)
    except NotFound:
        target = overview.merged_into(session, account_id)
        if target is None:
            raise
        # The old address of a merged account still leads somewhere useful.
        return render(
            request,
            "accounts/customer_merged.html",
            {"source_id": account_id, "target_id": target},
            status_code=410,
        )
    return render(request, "accounts/customer.html", context)


@router.get("/customers/{account_id:int}/slots/{name}", response_class=HTMLResponse)
def customer_slot(
    request: Request, account_id: int, name: str, session: DbSession, user: SignedInUser
) -> Response:
    if name not in SLOTS:
        raise NotFound("slot", name)
    if name in OWN_SLOTS:  # rendered by the capability that owns it
        return RedirectResponse(f"/customers/{account_id}/{name}", status_code=303)
    account = overview.get_account(session, account_id)
    context: dict[str, Any] = {"account": account, "slot": name, "charts": []}
    if name == "usage":
        context["charts"] = overview.usage_charts(session, account_id, today_of(request))
        context["usage_available"] = overview.metrics_available()
    return render(request, "accounts/_customer_slot.html", context)


# ---------------------------------------------------------------- inline editing


def _field_context(
    session: Session, entity: str, record_: Account | Contact, name: str
) -> dict[str, Any]:
    return {
        "entity": entity,
        "record": record_,
        "f": _field(session, entity, name),
        "value": overview.field_value(record_, name),
        "owners": {u.id: u for u in _owners(session)},
        "field_labels": FIELD_LABELS,
        "choice_labels": CHOICE_LABELS,
        "base": f"/customers/{record_.id}" if entity == "account" else f"/contacts/{record_.id}",
    }


def _record(session: Session, entity: str, record_id: int) -> Account | Contact:
    if entity == "account":
        return overview.get_account(session, record_id)
    return get_contact(session, record_id)


def _show(request: Request, session: Session, entity: str, record_id: int, name: str) -> Response:
    record_ = _record(session, entity, record_id)
    if not _is_htmx(request):  # a link followed without JavaScript leads back to the page
        account_id = record_.id if isinstance(record_, Account) else record_.account_id
        return RedirectResponse(f"/customers/{account_id}", status_code=303)
    context = _field_context(session, entity, record_, name)
    return render(request, "accounts/_customer_field.html", context)


def _form(
    request: Request,
    session: Session,
    entity: str,
    record_id: int,
    name: str,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = _field_context(session, entity, _record(session, entity, record_id), name)
    context |= extra or {}
    # HTMX swaps only successful responses, so it gets 200; a plain form post the honest status.
    if _is_htmx(request):
        return render(request, "accounts/_customer_field_form.html", context)
    # Without JavaScript the form is a page of its own, styled and with a way back.
    return render(request, "accounts/customer_field_page.html", context, status_code=status_code)


def _save(
    request: Request,
    session: Session,
    user: User,
    entity: str,
    record_id: int,
    name: str,
    value: str,
    version: int,
) -> Response:
    edit = overview.edit_account_field if entity == "account" else overview.edit_contact_field
    try:
        edit(session, actor_of(user), record_id, name, value, version)
    except Conflict:
        session.rollback()
        extra = {"conflict": True, "mine": value}
        return _form(request, session, entity, record_id, name, extra, status_code=409)
    except InvalidInput as exc:
        session.rollback()
        extra = {"errors": exc.errors, "mine": value, "version": version}
        return _form(request, session, entity, record_id, name, extra, status_code=422)
    if not _is_htmx(request):
        account_id = (
            record_id if entity == "account" else get_contact(session, record_id).account_id
        )
        flash(request, gettext("Saved."))
        return RedirectResponse(f"/customers/{account_id}", status_code=303)
    return _show(request, session, entity, record_id, name)


@router.get("/customers/{account_id:int}/fields/{name}", response_class=HTMLResponse)
def account_field(
    request: Request, account_id: int, name: str, session: DbSession, user: SignedInUser
) -> Response:
    return _show(request, session, "account", account_id, name)


@router.get("/customers/{account_id:int}/edit/{name}", response_class=HTMLResponse)
def account_field_form(
    request: Request, account_id: int, name: str, session: DbSession, user: WriterUser
) -> Response:
    return _form(request, session, "account", account_id, name)


@router.post("/customers/{account_id:int}/edit/{name}", response_class=HTMLResponse)
def account_field_save(
    request: Request,
    account_id: int,
    name: str,
    session: DbSession,
    user: WriterUser,
    version: int = Form(...),
    value: str = Form(""),
) -> Response:
    return _save(request, session, user, "account", account_id, name, value, version)


@router.get("/contacts/{contact_id:int}/fields/{name}", response_class=HTMLResponse)
def contact_field(
    request: Request, contact_id: int, name: str, session: DbSession, user: SignedInUser
) -> Response:
    return _show(request, session, "contact", contact_id, name)


@router.get("/contacts/{contact_id:int}/edit/{name}", response_class=HTMLResponse)
def contact_field_form(
    request: Request, contact_id: int, name: str, session: DbSession, user: WriterUser
) -> Response:
    return _form(request, session, "contact", contact_id, name)


@router.post("/contacts/{contact_id:int}/edit/{name}", response_class=HTMLResponse)
def contact_field_save(
    request: Request,
    contact_id: int,
    name: str,
    session: DbSession,
    user: WriterUser,
    version: int = Form(...),
    value: str = Form(""),
) -> Response:
    return _save(request, session, user, "contact", contact_id, name, value, version)


@router.get("/contacts/{contact_id:int}", response_class=HTMLResponse)
def contact_page(contact_id: int, session: DbSession, user: SignedInUser) -> Response:
    contact = get_contact(session, contact_id)
    return RedirectResponse(f"/customers/{contact.account_id}#contact-{contact.id}", 303)


# ---------------------------------------------------------------- adding a contact


@router.post("/customers/{account_id:int}/contacts", response_class=HTMLResponse)
def add_contact(
    request: Request,
    account_id: int,
    session: DbSession,
    user: WriterUser,
    name: str = Form(""),
    email: str = Form(""),
    title: str = Form(""),
    role: str = Form(""),
    is_key_person: str = Form(""),
) -> Response:
    overview.get_account(session, account_id)
    form = {"name": name, "email": email, "title": title, "role": role, "key": is_key_person}
    try:
        data = overview.contact_in(account_id, form)
        contact = create_contact(session, actor_of(user), data)
    except InvalidInput as exc:
        session.rollback()
        context = _page_context(session, request, account_id)
        context |= {"contact_errors": exc.errors, "contact_form": form}
        return render(request, "accounts/customer.html", context, status_code=422)
    flash(request, gettext("Contact added: %(name)s") % {"name": contact.name})
    return RedirectResponse(f"/customers/{account_id}#contact-{contact.id}", status_code=303)
