"""REST endpoints for product users and groups no account is known for, and linking them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from banso.api.deps import ReaderDep, SessionDep, WriterDep
from banso.events import identities

router = APIRouter(prefix="/usage", tags=["product usage"])

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page (≤500).")]
After = Annotated[int, Query(ge=0, le=2**31 - 1, description="Last id of the previous page.")]
ProductId = Annotated[str, Field(min_length=1, max_length=200)]


class UsageUserOut(BaseModel):
    id: int
    user_id: str
    email: str | None
    account_id: int | None
    contact_id: int | None
    link_source: str | None
    traits: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime


class UsageGroupOut(BaseModel):
    id: int
    group_id: str
    name: str | None
    account_id: int | None
    link_source: str | None
    traits: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime


class UserPage(BaseModel):
    items: list[UsageUserOut]
    next_after: int | None


class GroupPage(BaseModel):
    items: list[UsageGroupOut]
    next_after: int | None


class LinkUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: ProductId = Field(description="The product's userId.")
    account_id: Id
    contact_id: Id | None = Field(None, description="A contact of that account, if known.")


class LinkGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_id: ProductId = Field(description="The product's groupId.")
    account_id: Id


def _page(items: list[Any], limit: int) -> dict[str, Any]:
    return {"items": items, "next_after": items[-1].id if len(items) == limit else None}


@router.get("/unmatched-users", response_model=UserPage)
def unmatched_users(session: SessionDep, _: ReaderDep, limit: Limit = 100, after: After = 0) -> Any:
    """Product users that belong to no account yet, oldest first."""
    return _page(identities.unmatched_users(session, limit, after), limit)


@router.get("/unmatched-groups", response_model=GroupPage)
def unmatched_groups(
    session: SessionDep, _: ReaderDep, limit: Limit = 100, after: After = 0
) -> Any:
    """Product groups that belong to no account yet, oldest first."""
    return _page(identities.unmatched_groups(session, limit, after), limit)


@router.post("/unmatched-users/link", response_model=UsageUserOut)
def link_user(data: LinkUserIn, session: SessionDep, actor: WriterDep) -> Any:
    """Link a product user to an account (and contact); its past events count at once."""
    return identities.link_user(session, actor, data.user_id, data.account_id, data.contact_id)


@router.post("/unmatched-groups/link", response_model=UsageGroupOut)
def link_group(data: LinkGroupIn, session: SessionDep, actor: WriterDep) -> Any:
    """Link a product group to an account; its past events count at once."""
    return identities.link_group(session, actor, data.group_id, data.account_id)
