"""REST endpoint for the audit log: who changed what and when, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from banso.api.deps import ReaderDep, SessionDep, SettingsDep
from banso.audit.service import Actor, AuditFilter, entries
from banso.errors import PermissionDenied

router = APIRouter()

READERS = ("admin", "manager")
_INT_MAX = 2**31 - 1


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_user_id: int | None
    action: str
    entity: str
    entity_id: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


def auditor(actor: ReaderDep) -> Actor:
    """The audit log shows every record's past values, so only admins and managers read it."""
    if actor.role not in READERS:
        raise PermissionDenied(
            f"role {actor.role!r} may not read the audit log; ask an admin or a manager"
        )
    return actor


AuditorDep = Annotated[Actor, Depends(auditor)]


def list_entries(
    session: Session, f: AuditFilter, *, sort: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    page = entries(session, f, sort=sort, cursor=cursor, limit=limit)
    items = [AuditEntryOut.model_validate(e, from_attributes=True) for e in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


def _aware(value: datetime | None, timezone: str) -> datetime | None:
    """A time without an offset is read in the workspace timezone (BANSO_TIMEZONE)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(timezone))


Id = Annotated[int | None, Query(ge=1, le=_INT_MAX)]
When = Annotated[
    datetime | None,
    Query(description="ISO date-time; without an offset it is in the workspace timezone."),
]


@router.get("/audit", response_model=AuditPage, tags=["audit"])
def audit_log(
    session: SessionDep,
    settings: SettingsDep,
    _: AuditorDep,
    entity: Annotated[str | None, Query(description="account, contract, contact, ...")] = None,
    entity_id: Id = None,
    actor: Annotated[
        str | None, Query(description="Who: an e-mail (any channel), or a label such as cli.")
    ] = None,
    actor_user_id: Id = None,
    action: Annotated[str | None, Query(description="create, update, delete, ...")] = None,
    since: When = None,
    until: Annotated[datetime | None, Query(description="Exclusive end; like since.")] = None,
    sort: Annotated[str, Query(description="-at (newest first) or at.")] = "-at",
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Entries of the audit log, newest first, with the record before and after each change.
    Admins and managers only."""
    f = AuditFilter(
        entity=entity,
        entity_id=entity_id,
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        since=_aware(since, settings.timezone),
        until=_aware(until, settings.timezone),
    )
    return list_entries(session, f, sort=sort, cursor=cursor, limit=limit)
