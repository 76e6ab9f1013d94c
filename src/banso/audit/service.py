"""Record every change to customer data: who, when, what it was before and after."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, inspect, or_, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.errors import FieldError, InvalidInput
from banso.listing import Page, SortKey, paginate

_SKIP = frozenset({"updated_at", "created_at"})


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in user, an API token's owner, or the command line."""

    label: str
    user_id: int | None = None
    role: str = "admin"

    @property
    def can_write(self) -> bool:
        return self.role != "viewer"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


CLI = Actor(label="cli")


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Any, **extra: Any) -> dict[str, Any]:
    """The column values of a mapped object, JSON-safe, for the before/after of an entry."""
    mapper = inspect(obj).mapper
    data = {
        attr.key: jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in _SKIP
    }
    data.update({k: jsonable(v) for k, v in extra.items()})
    return data


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor.label,
            actor_user_id=actor.user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


def record_many(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> None:
    """Bulk :func:`record` for imports; rows carry action, entity, entity_id, before, after."""
    if not rows:
        return
    session.execute(
        insert(AuditEntry),
        [{"actor": actor.label, "actor_user_id": actor.user_id, **row} for row in rows],
    )


def history(session: Session, entity: str, entity_id: int) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- reading the log

AUDIT_SORTS = {"at": SortKey(AuditEntry.at)}


@dataclass
class AuditFilter:
    entity: str | None = None
    entity_id: int | None = None
    actor: str | None = None
    actor_user_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def check_filter(f: AuditFilter) -> None:
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


def filter_conditions(f: AuditFilter) -> list[ColumnElement[bool]]:
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


def entries(
    session: Session, f: AuditFilter, *, sort: str = "-at", cursor: str | None, limit: int
) -> Page[AuditEntry]:
    """One page of the entries ``f`` selects, by time, with a keyset cursor to the next."""
    check_filter(f)
    return paginate(
        session,
        select(AuditEntry).where(and_(True, *filter_conditions(f))),
        id_column=AuditEntry.id,
        sortable=AUDIT_SORTS,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
