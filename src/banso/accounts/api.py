"""REST endpoints for accounts, contacts and custom field definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from banso.accounts import customfields, service
from banso.accounts.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    ContactIn,
    ContactOut,
    ContactPatch,
)
from banso.api.deps import (
    AdminDep,
    Confirm,
    Cursor,
    Limit,
    ReaderDep,
    SessionDep,
    WriterDep,
    custom_filters,
)

router = APIRouter()


class AccountPage(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class CustomFieldOut(BaseModel):
    id: int
    entity: str
    key: str
    type: str
    label_ja: str
    label_en: str
    choices: list[str] | None
    required: bool
    position: int
    help_text: str | None
    version: int


@router.get("/accounts", response_model=AccountPage, tags=["accounts"])
def list_accounts(
    request: Request,
    session: SessionDep,
    _: ReaderDep,
    q: str | None = None,
    segment: str | None = None,
    industry: str | None = None,
    company_size: str | None = None,
    source: str | None = None,
    lifecycle_stage: str | None = None,
    owner_id: int | None = None,
    tag: str | None = None,
    domain: str | None = None,
    mrr_min: int | None = None,
    mrr_max: int | None = None,
    updated_since: datetime | None = None,
    external_system: str | None = None,
    external_id: str | None = None,
    sort: str = "name",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """List accounts. Filter on any field (custom ones as ``custom.<key>=value``); sort with
    ``sort=name`` or ``sort=-mrr``; page with ``cursor``."""
    f = service.AccountFilter(
        q=q,
        segment=segment,
        industry=industry,
        company_size=company_size,
        source=source,
        lifecycle_stage=lifecycle_stage,
        owner_id=owner_id,
        tag=tag,
        domain=domain,
        mrr_min=mrr_min,
        mrr_max=mrr_max,
        updated_since=updated_since,
        external_system=external_system,
        external_id=external_id,
        custom=custom_filters(request),
    )
    page = service.list_accounts(session, f, sort=sort, cursor=cursor, limit=limit)
    return {"items": service.accounts_out(session, page.items), "next_cursor": page.next_cursor}


@router.post("/accounts", response_model=AccountOut, status_code=201, tags=["accounts"])
def create_account(data: AccountIn, session: SessionDep, actor: WriterDep) -> AccountOut:
    account = service.create_account(session, actor, data)
    return service.account_out(session, account)


@router.get("/accounts/{account_id}", response_model=AccountOut, tags=["accounts"])
def get_account(account_id: int, session: SessionDep, _: ReaderDep) -> AccountOut:
    return service.account_out(session, service.get_account(session, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountOut, tags=["accounts"])
def update_account(
    account_id: int, data: AccountPatch, session: SessionDep, actor: WriterDep
) -> AccountOut:
    """Change the fields sent. ``version`` must be the one you read, else 409 with the current."""
    account = service.update_account(session, actor, account_id, data)
    return service.account_out(session, account)


@router.delete("/accounts/{account_id}", status_code=204, tags=["accounts"])
def delete_account(
    account_id: int, session: SessionDep, actor: WriterDep, confirm: Confirm = False
) -> Response:
    """Without ``confirm=true`` nothing is deleted: 409 says what would be."""
    service.delete_account(session, actor, account_id, confirm=confirm)
    return Response(status_code=204)


@router.get("/contacts", response_model=ContactPage, tags=["contacts"])
def list_contacts(
    request: Request,
    session: SessionDep,
    _: ReaderDep,
    account_id: int | None = None,
    role: str | None = None,
    is_key_person: bool | None = None,
    email: str | None = None,
    q: str | None = None,
    sort: str = "name",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    f = service.ContactFilter(
        account_id=account_id,
        role=role,
        is_key_person=is_key_person,
        email=email,
        q=q,
        custom=custom_filters(request),
    )
    page = service.list_contacts(session, f, sort=sort, cursor=cursor, limit=limit)
    return {"items": service.contacts_out(session, page.items), "next_cursor": page.next_cursor}


@router.post("/contacts", response_model=ContactOut, status_code=201, tags=["contacts"])
def create_contact(data: ContactIn, session: SessionDep, actor: WriterDep) -> ContactOut:
    return service.contact_out(session, service.create_contact(session, actor, data))


@router.get("/contacts/{contact_id}", response_model=ContactOut, tags=["contacts"])
def get_contact(contact_id: int, session: SessionDep, _: ReaderDep) -> ContactOut:
    return service.contact_out(session, service.get_contact(session, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactOut, tags=["contacts"])
def update_contact(
    contact_id: int, data: ContactPatch, session: SessionDep, actor: WriterDep
) -> ContactOut:
    return service.contact_out(session, service.update_contact(session, actor, contact_id, data))


@router.delete("/contacts/{contact_id}", status_code=204, tags=["contacts"])
def delete_contact(
    contact_id: int, session: SessionDep, actor: WriterDep, confirm: Confirm = False
) -> Response:
    service.delete_contact(session, actor, contact_id, confirm=confirm)
    return Response(status_code=204)


@router.get("/custom-fields", response_model=list[CustomFieldOut], tags=["custom fields"])
def list_custom_fields(session: SessionDep, _: ReaderDep, entity: str = "account") -> Any:
    return customfields.definitions(session, entity)


@router.post(
    "/custom-fields", response_model=CustomFieldOut, status_code=201, tags=["custom fields"]
)
def create_custom_field(
    data: customfields.CustomFieldIn, session: SessionDep, actor: AdminDep
) -> Any:
    return customfields.create_definition(session, actor, data)


@router.patch("/custom-fields/{field_id}", response_model=CustomFieldOut, tags=["custom fields"])
def update_custom_field(
    field_id: int, data: customfields.CustomFieldUpdate, session: SessionDep, actor: AdminDep
) -> Any:
    return customfields.update_definition(session, actor, field_id, data)


@router.delete("/custom-fields/{field_id}", status_code=204, tags=["custom fields"])
def delete_custom_field(
    field_id: int, session: SessionDep, actor: AdminDep, confirm: Confirm = False
) -> Response:
    if not confirm:
        from banso.errors import ConfirmationRequired

        raise ConfirmationRequired(
            "deleting a custom field hides its values on every record (they stay stored); "
            "pass confirm=true",
            {"custom_fields": 1},
        )
    customfields.delete_definition(session, actor, field_id)
    return Response(status_code=204)
