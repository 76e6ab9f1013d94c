"""The raw value of every measure for every scored account as of a date: one query per source.

Everything here is set-based: a metric, a field or the ratings are read for all accounts at
once and returned as numpy arrays aligned with the scored account ids (NaN: no value).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.contracts.models import ContractMovement
from banso.contracts.service import contract_states, mrr_by_account, seats_by_account
from banso.errors import InvalidInput
from banso.health.definitions import Measure, ScorecardSpec
from banso.health.models import HealthRating
from banso.metrics.models import MetricSnapshot

Values = NDArray[np.float64]


def scored_accounts(
    session: Session, spec: ScorecardSpec, as_of: date, active: dict[int, int] | None = None
) -> list[int]:
    """Accounts the scorecard applies to that have an active contract on ``as_of``
    (``active``: the MRR by account on that date, when the caller has it)."""
    if active is None:
        active = mrr_by_account(session, as_of)
    if not active:
        return []
    query = select(Account.id).order_by(Account.id)
    for condition in _segment_conditions(session, spec):
        query = query.where(condition)
    return [i for i in session.scalars(query) if i in active]


def _segment_conditions(session: Session, spec: ScorecardSpec) -> list[ColumnElement[bool]]:
    name = spec.applies_to.segment
    if name is None:
        return []
    from banso.segments.models import Segment
    from banso.segments.view import conditions, parse_view, view_from_saved

    segment = session.scalar(select(Segment).where(Segment.name == name))
    if segment is None:
        raise InvalidInput.one("applies_to.segment", f"there is no segment named {name!r}")
    view = parse_view(session, view_from_saved(segment.view))
    return list(conditions(session, view, None))


def _aligned(ids: Sequence[int], found: Iterable[tuple[Any, Any]]) -> Values:
    """Values by account, placed at their account's position in ``ids`` (NaN elsewhere)."""
    pairs = [(a, v) for a, v in found if v is not None]
    if not pairs:
        return np.full(len(ids), np.nan)
    accounts = np.fromiter((a for a, _ in pairs), dtype=np.int64, count=len(pairs))
    values = np.fromiter((v for _, v in pairs), dtype=np.float64, count=len(pairs))
    return _place(np.asarray(ids, dtype=np.int64), accounts, values)


def _place(ids: NDArray[np.int64], accounts: NDArray[np.int64], values: Values) -> Values:
    out = np.full(len(ids), np.nan)
    if len(ids) == 0 or len(accounts) == 0:
        return out
    order = np.argsort(ids)
    where = np.searchsorted(ids, accounts, sorter=order)
    where = np.clip(where, 0, len(ids) - 1)
    hit = ids[order[where]] == accounts
    out[order[where[hit]]] = values[hit]
    return out


def _metric(session: Session, ids: Sequence[int], key: str, as_of: date, max_age: int) -> Values:
    """The newest snapshot of ``key`` in the ``max_age`` days up to ``as_of``."""
    newest = (
        select(MetricSnapshot.account_id, func.max(MetricSnapshot.as_of).label("as_of"))
        .where(
            MetricSnapshot.metric_key == key,
            MetricSnapshot.as_of <= as_of,
            MetricSnapshot.as_of >= as_of - timedelta(days=max_age),
        )
        .group_by(MetricSnapshot.account_id)
        .subquery()
    )
    rows = session.execute(
        select(MetricSnapshot.account_id, MetricSnapshot.value)
        .join(
            newest,
            (newest.c.account_id == MetricSnapshot.account_id)
            & (newest.c.as_of == MetricSnapshot.as_of),
        )
        .where(MetricSnapshot.metric_key == key)
    ).all()
    return _aligned(ids, ((a, v) for a, v in rows))


def _days_to_renewal(session: Session, ids: Sequence[int], as_of: date) -> Values:
    from banso.contracts.models import Contract

    last = contract_states(as_of)
    rows = session.execute(
        select(Contract.account_id, func.min(Contract.end_date))
        .join(last, last.c.contract_id == Contract.id)
        .where(last.c.rn == 1, last.c.status_after == "active", Contract.end_date >= as_of)
        .group_by(Contract.account_id)
    ).all()
    return _aligned(ids, ((a, (end - as_of).days) for a, end in rows if end is not None))


def _mrr_change(
    session: Session, ids: Sequence[int], now: dict[int, int], as_of: date, days: int
) -> Values:
    before = mrr_by_account(session, as_of - timedelta(days=days))
    return _aligned(ids, ((a, (now.get(a, 0) - m) / m) for a, m in before.items() if m > 0))


def _days_as_customer(session: Session, ids: Sequence[int], as_of: date) -> Values:
    rows = session.execute(
        select(ContractMovement.account_id, func.min(ContractMovement.effective_date))
        .where(ContractMovement.effective_date <= as_of, ContractMovement.kind == "new")
        .group_by(ContractMovement.account_id)
    ).all()
    return _aligned(ids, ((a, (as_of - first).days) for a, first in rows))


def _custom(session: Session, ids: Sequence[int], key: str) -> Values:
    """A numeric custom field: today's value (custom fields keep no history)."""
    rows = session.execute(select(Account.id, Account.custom)).all()
    found = []
    for account_id, custom in rows:
        value = (custom or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            found.append((account_id, value))
    return _aligned(ids, found)


def _rating(session: Session, ids: Sequence[int], measure: Measure, as_of: date) -> Values:
    """The newest rating given on or before ``as_of`` that has not expired by then."""
    assert measure.rating is not None
    valid_days = measure.rating.valid_days
    newest = (
        select(HealthRating.account_id, func.max(HealthRating.id).label("id"))
        .where(
            HealthRating.measure_key == measure.key,
            HealthRating.rated_on <= as_of,
            HealthRating.rated_on >= as_of - timedelta(days=valid_days),
            HealthRating.expires_on >= as_of,
        )
        .group_by(HealthRating.account_id)
        .subquery()
    )
    rows = session.execute(
        select(HealthRating.account_id, HealthRating.value).join(
            newest, newest.c.id == HealthRating.id
        )
    ).all()
    return _aligned(ids, ((a, v) for a, v in rows))


def metrics_from_table(
    ids: Sequence[int], table: pa.Table, keys: Iterable[str]
) -> dict[str, Values]:
    """Metric values already computed for ``as_of`` (the refresh pipeline hands them on)."""
    ordered = np.asarray(ids, dtype=np.int64)
    found = {}
    for key in set(keys):
        rows = table.filter(pc.equal(table.column("metric_key"), key))
        accounts = rows.column("account_id").to_numpy(zero_copy_only=False).astype(np.int64)
        values = rows.column("value").cast(pa.float64()).fill_null(np.nan).to_numpy()
        found[key] = _place(ordered, accounts, values)
    return found


class Inputs:
    """Reads measure values for the scored accounts on one date; shared reads are done once."""

    def __init__(
        self,
        session: Session,
        ids: Sequence[int],
        as_of: date,
        mrr: dict[int, int] | None = None,
        metrics: dict[str, Values] | None = None,
    ) -> None:
        self.session, self.ids, self.as_of = session, ids, as_of
        self._mrr = mrr
        self._metrics = metrics or {}

    @property
    def mrr(self) -> dict[int, int]:
        if self._mrr is None:
            self._mrr = mrr_by_account(self.session, self.as_of)
        return self._mrr

    def values(self, measure: Measure) -> Values:
        """The raw value of ``measure`` for each scored account (NaN where there is none)."""
        session, ids, as_of = self.session, self.ids, self.as_of
        if measure.metric is not None:
            if measure.metric in self._metrics:
                return self._metrics[measure.metric]
            return _metric(session, ids, measure.metric, as_of, measure.max_age_days)
        if measure.rating is not None:
            return _rating(session, ids, measure, as_of)
        match measure.field:
            case "days_to_renewal":
                return _days_to_renewal(session, ids, as_of)
            case "mrr":
                return _aligned(ids, self.mrr.items())
            case "mrr_change_90d":
                return _mrr_change(session, ids, self.mrr, as_of, 90)
            case "contract_seats":
                return _aligned(ids, seats_by_account(session, as_of).items())
            case "days_as_customer":
                return _days_as_customer(session, ids, as_of)
            case str(name) if name.startswith("custom."):
                return _custom(session, ids, name.removeprefix("custom."))
        raise InvalidInput.one(measure.key, f"cannot read field {measure.field!r}")
