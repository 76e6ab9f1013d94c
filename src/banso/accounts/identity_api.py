"""REST endpoints for identity resolution (名寄せ): duplicates, merging, resolving a record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from banso.accounts import merge, resolution
from banso.api.deps import ReaderDep, SessionDep, WriterDep
from banso.errors import InvalidInput, NotFound

router = APIRouter(tags=["identity resolution"])

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: Id = Field(description="Id of the record that stays.")
    preview: bool = Field(True, description="Only say what would move (the default).")
    source_version: Id | None = Field(None, description="Version the preview showed.")
    target_version: Id | None = Field(None, description="Version the preview showed.")


class DuplicateOut(BaseModel):
    first_id: int
    second_id: int
    reasons: list[str]
    score: int


class DuplicatePage(BaseModel):
    items: list[DuplicateOut]
    next_cursor: str | None


class MatchOut(BaseModel):
    id: int | None
    reason: str
    candidates: list[int]


Limit = Annotated[int, Query(ge=1, le=500, description="Pairs per page (≤500).")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
Text = Annotated[str | None, Query(max_length=1000)]


def _page(page: Any) -> dict[str, Any]:
    return {"items": [p.as_dict() for p in page.items], "next_cursor": page.next_cursor}


@router.get("/duplicates/accounts", response_model=DuplicatePage)
def duplicate_accounts(
    session: SessionDep, _: ReaderDep, limit: Limit = 100, cursor: Cursor = None
) -> Any:
    """Likely duplicate accounts, best first, with the reasons: same normalised name, same
    domain, same kana reading, contacts' e-mail domain shared."""
    return _page(resolution.find_duplicate_accounts(session, limit=limit, cursor=cursor))


@router.get("/duplicates/contacts", response_model=DuplicatePage)
def duplicate_contacts(
    session: SessionDep, _: ReaderDep, limit: Limit = 100, cursor: Cursor = None
) -> Any:
    """Likely duplicate contacts: same e-mail anywhere, or same name within one account."""
    return _page(resolution.find_duplicate_contacts(session, limit=limit, cursor=cursor))


def _merged(plan: dict[str, Any], data: MergeIn) -> dict[str, Any]:
    return {"merged": not data.preview, **plan}


@router.post("/accounts/{source_id}/merge")
def merge_account(
    source_id: int, data: MergeIn, session: SessionDep, actor: WriterDep
) -> dict[str, Any]:
    """Merge this account into ``into``. ``preview`` (the default) only says what would move;
    send the versions the preview showed with ``"preview": false`` to merge."""
    plan = merge.merge_accounts(
        session,
        actor,
        source_id,
        data.into,
        preview=data.preview,
        source_version=data.source_version,
        target_version=data.target_version,
    )
    return _merged(plan, data)


@router.post("/contacts/{source_id}/merge")
def merge_contact(
    source_id: int, data: MergeIn, session: SessionDep, actor: WriterDep
) -> dict[str, Any]:
    """Merge this contact into ``into`` (the target keeps its values and its account)."""
    plan = merge.merge_contacts(
        session,
        actor,
        source_id,
        data.into,
        preview=data.preview,
        source_version=data.source_version,
        target_version=data.target_version,
    )
    return _merged(plan, data)


def _external(system: str | None, external_id: str | None) -> tuple[str, str] | None:
    if bool(system) != bool(external_id):
        raise InvalidInput.one("external_id", "give system and external_id together")
    return (system, external_id) if system and external_id else None


@router.get("/resolve/account", response_model=MatchOut)
def resolve_account(
    session: SessionDep,
    _: ReaderDep,
    name: Text = None,
    domain: Text = None,
    email: Text = None,
    system: Text = None,
    external_id: Text = None,
) -> Any:
    """Which account these facts point to, and why (external_id > email > domain > name).
    404 when none does; an ambiguous match has no id and lists the candidates."""
    match = resolution.resolve_account(
        session,
        external=_external(system, external_id),
        name=name,
        domain=domain,
        email=email,
    )
    if match is None:
        raise NotFound("account matching", "these facts")
    return match.as_dict()


@router.get("/resolve/contact", response_model=MatchOut)
def resolve_contact(
    session: SessionDep,
    _: ReaderDep,
    email: Text = None,
    system: Text = None,
    external_id: Text = None,
    account_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Any:
    """Which contact these facts point to (external id, else e-mail within ``account_id``)."""
    match = resolution.resolve_contact(
        session, external=_external(system, external_id), email=email, account_id=account_id
    )
    if match is None:
        raise NotFound("contact matching", "these facts")
    return match.as_dict()
