"""Record every change to customer data: who, when, what it was before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry

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
