"""`banso refresh`: compute every metric as of a date and replace that date's snapshots.

A refresh reads one consistent snapshot of the event store and what the app database knows
(identities, seats, key persons), computes all metrics in one engine query, then deletes and
rewrites that date's snapshots in one transaction: readers see the old values or the new ones,
never a mix, and other dates are never touched.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import pyarrow as pa
from pyarrow import csv
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.contracts.service import seats_by_account
from banso.db import utcnow
from banso.errors import InvalidInput
from banso.events.identities import attribution_tables
from banso.events.models import UsageUser
from banso.metrics.definitions import MetricDefinition
from banso.metrics.engine import Engine
from banso.metrics.models import MetricRefresh, MetricSnapshot
from banso.metrics.plan import AppData, MetricPlan
from banso.metrics.service import definitions as stored_definitions

_CHUNK = 20_000
MAX_BACKFILL_DATES = 3660


@dataclass(frozen=True)
class RefreshResult:
    as_of: date
    accounts: int
    metrics: int
    rows: int
    seconds: float
    # The values just stored (account_id, metric_key, value): what health scoring reads next.
    values: pa.Table | None = field(default=None, repr=False, compare=False)


def _int_table(columns: dict[str, Sequence[int | None]]) -> pa.Table:
    return pa.table({name: pa.array(values, pa.int64()) for name, values in columns.items()})


def load_app_data(session: Session, as_of: date) -> AppData:
    """Identities, accounts with seats and invited contacts, key persons: set-based queries."""
    users, groups, aliases = attribution_tables(session)
    seats = seats_by_account(session, as_of)
    invited = dict(
        session.execute(
            select(Contact.account_id, func.count(func.distinct(Contact.id)))
            .join(UsageUser, UsageUser.contact_id == Contact.id)
            .group_by(Contact.account_id)
        ).all()
    )
    ids = list(session.scalars(select(Account.id).order_by(Account.id)))
    accounts = _int_table(
        {
            "account_id": ids,
            "seats": [seats.get(i) for i in ids],
            "invited_contacts": [invited.get(i, 0) for i in ids],
        }
    )
    people = session.execute(
        select(Contact.id, Contact.account_id).where(Contact.is_key_person.is_(True))
    ).all()
    key_persons = _int_table(
        {"contact_id": [p[0] for p in people], "account_id": [p[1] for p in people]}
    )
    return AppData(users, groups, aliases, accounts, key_persons)


def compute(
    session: Session,
    engine: Engine,
    files: Sequence[Path],
    as_of: date,
    timezone: str,
    definitions: list[MetricDefinition] | None = None,
) -> pa.Table:
    """account_id, metric_key, value for every account and metric as of ``as_of``."""
    chosen = definitions if definitions is not None else stored_definitions(session)
    app = load_app_data(session, as_of)
    return MetricPlan(chosen, as_of, timezone, engine).run(list(files), app)


_COLUMNS = ("account_id", "metric_key", "as_of", "value", "computed_at")


def _rows(values: pa.Table, as_of: date) -> Iterator[tuple[object, ...]]:
    now = utcnow()
    for batch in values.to_batches(max_chunksize=_CHUNK):
        columns = [batch.column(i).to_pylist() for i in range(3)]
        for account_id, key, value in zip(*columns, strict=True):
            yield account_id, key, as_of, value, now


def write_snapshots(session: Session, as_of: date, values: pa.Table) -> int:
    """Replace the snapshots of ``as_of`` with ``values`` (in the caller's transaction).

    PostgreSQL gets COPY; other databases a multi-row INSERT."""
    session.execute(delete(MetricSnapshot).where(MetricSnapshot.as_of == as_of))
    if session.get_bind().dialect.name == "postgresql":
        _copy_postgresql(session, as_of, values)
        return values.num_rows
    table = cast(Table, MetricSnapshot.__table__)
    chunk: list[dict[str, object]] = []
    for row in _rows(values, as_of):
        chunk.append(dict(zip(_COLUMNS, row, strict=True)))
        if len(chunk) == _CHUNK:
            session.execute(insert(table), chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)
    return values.num_rows


def _copy_postgresql(session: Session, as_of: date, values: pa.Table) -> None:
    """COPY the rows as CSV that Arrow writes in bulk (no Python work per row)."""
    n = values.num_rows
    full = values.append_column("as_of", pa.array([as_of] * n, pa.date32())).append_column(
        "computed_at", pa.array([utcnow()] * n, pa.timestamp("us", tz="UTC"))
    )
    buffer = io.BytesIO()
    csv.write_csv(full.select(list(_COLUMNS)), buffer, csv.WriteOptions(include_header=False))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
        f"COPY metric_snapshots ({', '.join(_COLUMNS)}) FROM STDIN (FORMAT csv)"
    ) as copy:
        view = buffer.getbuffer()
        for start in range(0, len(view), 1 << 20):
            copy.write(view[start : start + (1 << 20)])


def refresh(
    session: Session,
    engine: Engine,
    files: Sequence[Path],
    as_of: date,
    timezone: str,
) -> RefreshResult:
    """Compute and store every metric as of ``as_of``; the caller commits."""
    started = time.perf_counter()
    definitions = stored_definitions(session)
    values = compute(session, engine, files, as_of, timezone, definitions)
    rows = write_snapshots(session, as_of, values)
    seconds = time.perf_counter() - started
    accounts = values.num_rows // len(definitions) if definitions else 0
    session.merge(
        MetricRefresh(
            as_of=as_of,
            computed_at=utcnow(),
            engine=engine.name,
            accounts=accounts,
            metrics=len(definitions),
            seconds=seconds,
        )
    )
    session.flush()
    return RefreshResult(as_of, accounts, len(definitions), rows, seconds, values)


def dates(start: date, end: date, every_days: int = 1) -> Iterator[date]:
    """start, start + every, ... up to and including end (refused when backwards or huge)."""
    if end < start:
        raise InvalidInput.one("--to", f"{end} is before --from {start}")
    if every_days < 1:
        raise InvalidInput.one("--every", "must be at least 1 day")
    count = (end - start).days // every_days + 1
    if count > MAX_BACKFILL_DATES:
        raise InvalidInput.one(
            "--from", f"{count} dates is too many (at most {MAX_BACKFILL_DATES})"
        )
    for i in range(count):
        yield start + timedelta(days=i * every_days)


def parse_every(text: str) -> int:
    """``7d``, ``1w`` or ``7`` → 7 days."""
    value = text.strip().lower()
    factor = 7 if value.endswith("w") else 1
    digits = value.rstrip("dw")
    if not digits.isdigit() or int(digits) < 1:
        raise InvalidInput.one("--every", f"{text!r} is not a period; use e.g. 1d, 7d or 2w")
    return int(digits) * factor
