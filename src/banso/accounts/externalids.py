"""External ids: the same record's id in Salesforce, HubSpot, the product, ..."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from banso.accounts.models import ExternalId
from banso.errors import Conflict


def external_ids_of(
    session: Session, entity: str, entity_ids: list[int]
) -> dict[int, dict[str, str]]:
    """``{entity_id: {system: value}}`` for many records in one query."""
    result: dict[int, dict[str, str]] = defaultdict(dict)
    if not entity_ids:
        return result
    for chunk_start in range(0, len(entity_ids), 1000):
        chunk = entity_ids[chunk_start : chunk_start + 1000]
        stmt = select(ExternalId).where(
            ExternalId.entity == entity, ExternalId.entity_id.in_(chunk)
        )
        for row in session.scalars(stmt):
            result[row.entity_id][row.system] = row.value
    return result


def find_by_external_id(session: Session, entity: str, system: str, value: str) -> int | None:
    stmt = select(ExternalId.entity_id).where(
        ExternalId.entity == entity, ExternalId.system == system, ExternalId.value == value
    )
    return session.scalar(stmt)


def find_many(
    session: Session, entity: str, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Resolve many ``(system, value)`` pairs at once (imports)."""
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        stmt = select(ExternalId.system, ExternalId.value, ExternalId.entity_id).where(
            ExternalId.entity == entity, tuple_(ExternalId.system, ExternalId.value).in_(chunk)
        )
        for system, value, entity_id in session.execute(stmt):
            found[(system, value)] = entity_id
    return found


def set_external_ids(
    session: Session, entity: str, entity_id: int, ids: dict[str, str], *, replace: bool = True
) -> None:
    """Give the record these ids; refuse one that already belongs to another record."""
    for system, value in ids.items():
        owner = find_by_external_id(session, entity, system, value)
        if owner is not None and owner != entity_id:
            raise Conflict(f"{system} id {value!r} already belongs to {entity} {owner}")
    if replace:
        session.execute(
            delete(ExternalId).where(ExternalId.entity == entity, ExternalId.entity_id == entity_id)
        )
    else:
        session.execute(
            delete(ExternalId).where(
                ExternalId.entity == entity,
                ExternalId.entity_id == entity_id,
                ExternalId.system.in_(list(ids)),
            )
        )
    session.add_all(
        ExternalId(entity=entity, entity_id=entity_id, system=system, value=value)
        for system, value in ids.items()
    )
    session.flush()


def delete_external_ids(session: Session, entity: str, entity_ids: list[int]) -> None:
    if entity_ids:
        session.execute(
            delete(ExternalId).where(
                ExternalId.entity == entity, ExternalId.entity_id.in_(entity_ids)
            )
        )
