"""REST endpoints for identity resolution: duplicates, merging, resolving a record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from banso.accounts import merge, resolution
from banso.api.deps import ReaderDep, SessionDep, WriterDep
from banso.errors import NotFound

router = APIRouter(tags=["identity resolution"])


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: int
    preview: bool = True


class DuplicateOut(BaseModel):
    first_id: int
    second_id: int
    reasons: list[str]
    score: int


class MatchOut(BaseModel):
    id: int | None
    reason: str
    candidates: list[int]


Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/duplicates/accounts", response_model=list[DuplicateOut])
def duplicate_accounts(
    session: SessionDep, _: ReaderDep, limit: Limit = 100, offset: Offset = 0
) -> Any:
    """Likely duplicate accounts with the reasons (same name, domain or reading), best first."""
    return [
        p.as_dict() for p in resolution.find_duplicate_accounts(session, limit=limit, offset=offset)
    ]


@router.get("/duplicates/contacts", response_model=list[DuplicateOut])
def duplicate_contacts(
    session: SessionDep, _: ReaderDep, limit: Limit = 100, offset: Offset = 0
) -> Any:
    return [
        p.as_dict() for p in resolution.find_duplicate_contacts(session, limit=limit, offset=offset)
    ]


@router.post("/accounts/{source_id}/merge")
def merge_account(
    source_id: int, data: MergeIn, session: SessionDep, actor: WriterDep
) -> dict[str, Any]:
    """Merge this account into ``into``. ``preview`` (the default) only says what would move."""
    plan = merge.merge_accounts(session, actor, source_id, data.into, preview=data.preview)
    return {"merged": not data.preview, **plan}


@router.post("/contacts/{source_id}/merge")
def merge_contact(
    source_id: int, data: MergeIn, session: SessionDep, actor: WriterDep
) -> dict[str, Any]:
    plan = merge.merge_contacts(session, actor, source_id, data.into, preview=data.preview)
    return {"merged": not data.preview, **plan}


@router.get("/resolve/account", response_model=MatchOut)
def resolve_account(
    session: SessionDep,
    _: ReaderDep,
    name: str | None = None,
    domain: str | None = None,
    email: str | None = None,
    system: str | None = None,
    external_id: str | None = None,
) -> Any:
    """Which account these facts point to, and why. 404 when none does."""
    external = (system, external_id) if system and external_id else None
    match = resolution.resolve_account(
        session, external=external, name=name, domain=domain, email=email
    )
    if match is None:
        raise NotFound("account matching", "these facts")
    return {"id": match.id, "reason": match.reason, "candidates": list(match.candidates)}
