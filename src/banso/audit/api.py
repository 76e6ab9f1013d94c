"""REST endpoint for the audit log: who changed what and when, newest first."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from banso.api.deps import ReaderDep, SessionDep, SettingsDep
from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.errors import FieldError, InvalidInput, PermissionDenied
from banso.listing import SortKey, paginate

router = APIRouter()

AUDIT_SORTS = {"at": SortKey(AuditEntry.at)}
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


@dataclass
class AuditFilter:
    entity: str | None = None
    entity_id: int | None = None
    actor: str | None = None
    actor_user_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _check(f: AuditFilter) -> None:
    errors = [
        FieldError(spec.name, "contains a NUL character (\\x00); remove it")
        for spec in fields(f)
        if isinstance(getattr(f, spec.name), str) and "\x00" in getattr(f, spec.name)
    ]
    if f.since and f.until and f.until <= f.since:
        errors.append(FieldError("until", "must be after since"))
    if errors:
        raise InvalidInput(errors)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _by_actor(actor: str) -> ColumnElement[bool]:
    """``alice@example.com`` finds her work through any channel (``... via api``)."""
    label = func.lower(AuditEntry.actor)
    wanted = actor.strip().lower()
    return or_(label == wanted, label.like(_escape_like(wanted) + " via %", escape="\\"))


def _conditions(f: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.entity is not None:
        conditions.append(AuditEntry.entity == f.entity)
    if f.entity_id is not None:
        conditions.append(AuditEntry.entity_id == f.entity_id)
    if f.actor is not None:
        conditions.append(_by_actor(f.actor))
    if f.actor_user_id is not None:
        conditions.append(AuditEntry.actor_user_id == f.actor_user_id)
    if f.action is not None:
        conditions.append(AuditEntry.action == f.action)
    if f.since is not None:
        conditions.append(AuditEntry.at >= f.since)
    if f.until is not None:
        conditions.append(AuditEntry.at < f.until)
    return conditions


def list_entries(
    session: Session, f: AuditFilter, *, sort: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    _check(f)
    page = paginate(
        session,
        select(AuditEntry).where(and_(True, *_conditions(f))),
        id_column=AuditEntry.id,
        sortable=AUDIT_SORTS,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
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
