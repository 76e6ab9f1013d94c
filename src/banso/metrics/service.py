"""Metric definitions (the standard set until an admin changes it) and reading snapshots."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor, record
from banso.errors import InvalidInput, NotFound
from banso.metrics.definitions import (
    MetricDefinition,
    RatioMetric,
    TrendMetric,
    check_references,
    standard_definitions,
)
from banso.metrics.models import MetricDefinitionRow, MetricSnapshot


def _to_definition(row: MetricDefinitionRow) -> MetricDefinition:
    return MetricDefinition.model_validate(
        {
            "key": row.key,
            "name": row.name,
            "description": row.description,
            "unit": row.unit,
            "spec": row.spec,
        }
    )


def definitions(session: Session) -> list[MetricDefinition]:
    """The metrics in force: the stored ones, or the standard set while none is stored."""
    rows = session.scalars(
        select(MetricDefinitionRow).order_by(MetricDefinitionRow.position, MetricDefinitionRow.id)
    ).all()
    if not rows:
        return standard_definitions()
    return [_to_definition(r) for r in rows]


def get_definition(session: Session, key: str) -> MetricDefinition:
    for d in definitions(session):
        if d.key == key:
            return d
    raise NotFound("metric", key)


def _store_standard_set(session: Session) -> None:
    """The first change writes the standard set down, so editing one metric keeps the others."""
    if session.scalar(select(func.count()).select_from(MetricDefinitionRow)):
        return
    for position, d in enumerate(standard_definitions()):
        session.add(_row(d, position))
    session.flush()


def _row(d: MetricDefinition, position: int) -> MetricDefinitionRow:
    return MetricDefinitionRow(
        key=d.key,
        name=d.name,
        description=d.description,
        unit=d.unit,
        spec=d.spec.model_dump(mode="json"),
        position=position,
    )


def save_definitions(
    session: Session, actor: Actor, incoming: list[MetricDefinition]
) -> list[MetricDefinition]:
    """Add or replace metrics by key; the whole set must stay consistent or nothing changes."""
    current = {d.key: d for d in definitions(session)}
    merged = current | {d.key: d for d in incoming}
    check_references(list(merged.values()))
    _store_standard_set(session)
    rows = {r.key: r for r in session.scalars(select(MetricDefinitionRow))}
    position = max((r.position for r in rows.values()), default=-1) + 1
    for d in incoming:
        row = rows.get(d.key)
        if row is None:
            row = _row(d, position)
            position += 1
            session.add(row)
            session.flush()
            record(session, actor, "create", "metric", row.id, after=d.model_dump(mode="json"))
            continue
        before = _to_definition(row).model_dump(mode="json")
        row.name, row.description, row.unit = d.name, d.description, d.unit
        row.spec = d.spec.model_dump(mode="json")
        session.flush()
        record(session, actor, "update", "metric", row.id, before, d.model_dump(mode="json"))
    return definitions(session)


def delete_definition(session: Session, actor: Actor, key: str) -> None:
    """Remove a metric no other metric refers to; its past snapshots stay readable."""
    current = definitions(session)
    if key not in {d.key for d in current}:
        raise NotFound("metric", key)
    users = [
        d.key
        for d in current
        if isinstance(d.spec, RatioMetric | TrendMetric)
        and key in {getattr(d.spec, n, None) for n in ("numerator", "denominator", "of")}
    ]
    if users:
        raise InvalidInput.one("key", f"{key!r} is used by {', '.join(users)}; delete those first")
    _store_standard_set(session)
    row = session.scalars(select(MetricDefinitionRow).where(MetricDefinitionRow.key == key)).one()
    record(session, actor, "delete", "metric", row.id, before=_to_definition(row).model_dump())
    session.delete(row)
    session.flush()


@dataclass(frozen=True)
class Point:
    as_of: date
    value: float | None


def series(
    session: Session, account_id: int, metric_keys: list[str], since: date
) -> dict[str, list[Point]]:
    """Each metric's values for one account from ``since`` on, oldest first (charts)."""
    rows = session.execute(
        select(MetricSnapshot.metric_key, MetricSnapshot.as_of, MetricSnapshot.value)
        .where(
            MetricSnapshot.account_id == account_id,
            MetricSnapshot.metric_key.in_(metric_keys),
            MetricSnapshot.as_of >= since,
        )
        .order_by(MetricSnapshot.metric_key, MetricSnapshot.as_of)
    ).all()
    out: dict[str, list[Point]] = {key: [] for key in metric_keys}
    for key, as_of, value in rows:
        out[key].append(Point(as_of, value))
    return out


@dataclass(frozen=True)
class LatestValue:
    key: str
    name: str
    unit: str
    as_of: date
    value: float | None


def latest(session: Session, account_id: int) -> list[LatestValue]:
    """The most recent value of every current metric for one account, in definition order."""
    newest = (
        select(MetricSnapshot.metric_key, func.max(MetricSnapshot.as_of).label("as_of"))
        .where(MetricSnapshot.account_id == account_id)
        .group_by(MetricSnapshot.metric_key)
        .subquery()
    )
    rows = session.execute(
        select(MetricSnapshot.metric_key, MetricSnapshot.as_of, MetricSnapshot.value)
        .join(
            newest,
            (MetricSnapshot.metric_key == newest.c.metric_key)
            & (MetricSnapshot.as_of == newest.c.as_of),
        )
        .where(MetricSnapshot.account_id == account_id)
    ).all()
    found: dict[str, tuple[date, float | None]] = defaultdict()
    for key, as_of, value in rows:
        found[key] = (as_of, value)
    return [
        LatestValue(d.key, d.name, d.unit, *found[d.key])
        for d in definitions(session)
        if d.key in found
    ]
