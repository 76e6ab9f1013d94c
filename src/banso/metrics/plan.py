"""Every metric of every account as of one date, as one set-based Ibis expression.

Days are days of the workspace timezone: "as of 2026-11-20" counts events with
``timestamp < 2026-11-21 00:00`` local time, and a 7-day window is the local days 11-14..11-20.
Events are attributed late (user = coalesce(user_id, alias of anonymous_id, anonymous_id);
account = the group's account if the group is linked, else the user's), then aggregated in two
stages: per account, user and day, then per account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis import _

from banso.metrics.definitions import (
    EventFilter,
    EventMetric,
    FeatureAdoptionMetric,
    InvitedContactsMetric,
    KeyPersonMetric,
    MetricDefinition,
    RatioMetric,
    SeatsMetric,
    TrendMetric,
)
from banso.metrics.engine import Engine

SESSION_GAP_SECONDS = 30 * 60
_EPOCH = date(1970, 1, 1)
_ACTIVITY = EventFilter(types=["track", "page", "screen"])


@dataclass(frozen=True)
class AppData:
    """What the app database knows, as Arrow tables (see refresh.load_app_data)."""

    users: pa.Table  # user_id, account_id, contact_id
    groups: pa.Table  # group_id, account_id
    aliases: pa.Table  # alias_id, user_id
    accounts: pa.Table  # account_id, seats, invited_contacts
    key_persons: pa.Table  # contact_id, account_id


@dataclass(frozen=True)
class _Condition:
    """Which events one column counts: a filter and local days ``first..last`` (None = all)."""

    filter: EventFilter
    first: int | None
    last: int

    @property
    def identity(self) -> str:
        return json.dumps([self.filter.model_dump(mode="json"), self.first, self.last])


def _day_number(day: date) -> int:
    return (day - _EPOCH).days


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _offset_changes(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """(instant, UTC offset in seconds from then on) for [start, end): DST-exact day numbers."""

    def offset(at: datetime) -> int:
        delta = at.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    changes = [(start, offset(start))]
    at = start
    while at < end:
        step = min(at + timedelta(days=1), end)
        if offset(step) != changes[-1][1]:
            lo, hi = at, step  # bisect to the second the offset changes
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (lo, mid) if offset(mid) != changes[-1][1] else (mid, hi)
            changes.append((hi, offset(hi)))
        at = step
    return changes


def _local_day(ts: ir.TimestampValue, changes: list[tuple[datetime, int]]) -> ir.IntegerValue:
    seconds = ts.epoch_seconds()
    offset: ir.IntegerValue = ibis.literal(changes[0][1])
    if len(changes) > 1:
        branches = [(ts >= ibis.literal(at), ibis.literal(off)) for at, off in reversed(changes)]
        offset = ibis.cases(*branches, else_=ibis.literal(changes[0][1]))
    return ((seconds + offset) // 86400).cast("int64")


class MetricPlan:
    """Builds the expression for ``definitions`` as of ``as_of`` and runs it on ``engine``."""

    def __init__(
        self, definitions: list[MetricDefinition], as_of: date, timezone: str, engine: Engine
    ) -> None:
        self.definitions = definitions
        self.as_of = as_of
        self.zone = ZoneInfo(timezone)
        self.engine = engine
        self.today = _day_number(as_of)
        self.conditions: dict[str, _Condition] = {}  # column name → what it counts
        self._names: dict[str, str] = {}

    # -- conditions -------------------------------------------------------------------
    def _condition(self, flt: EventFilter, window: int | None, shift: int = 0) -> str:
        last = self.today - shift
        cond = _Condition(flt, None if window is None else last - window + 1, last)
        name = self._names.setdefault(cond.identity, f"_c{len(self._names)}")
        self.conditions[name] = cond
        return name

    def _collect(self) -> None:
        by_key = {d.key: d for d in self.definitions}
        for d in self.definitions:
            spec = d.spec
            if isinstance(spec, EventMetric):
                self._condition(spec.filter, spec.window_days)
            elif isinstance(spec, TrendMetric):
                base = by_key[spec.of].spec
                assert isinstance(base, EventMetric) and base.window_days
                self._condition(base.filter, base.window_days, shift=base.window_days)
            elif isinstance(spec, FeatureAdoptionMetric):
                for feature in spec.features:
                    self._condition(EventFilter(events=[feature]), spec.window_days)
            elif isinstance(spec, KeyPersonMetric):
                self._condition(_ACTIVITY, spec.window_days)

    # -- events -----------------------------------------------------------------------
    def _matches(self, events: ir.Table, flt: EventFilter) -> ir.BooleanValue:
        test = events.type.isin(flt.types)
        if flt.events:
            test &= events.event.isin(flt.events)
        for prop in flt.properties:
            value = self.engine.json_text(events.properties, prop.key)
            if prop.op == "exists":
                test &= value.notnull()
            elif prop.op == "eq":
                test &= value == prop.value
            elif prop.op == "ne":
                test &= value.isnull() | (value != prop.value)
            else:
                test &= value.isin(list(prop.value or []))
        return test

    def _attributed(self, files: list, app: AppData) -> ir.Table:
        first_days = [c.first for c in self.conditions.values()]
        start_day = None if None in first_days else min(d for d in first_days if d is not None)
        end = _local_midnight_utc(self.as_of + timedelta(days=1), self.zone)
        start = (
            _local_midnight_utc(_EPOCH + timedelta(days=start_day), self.zone)
            if start_day is not None
            else None
        )
        types = sorted({t for c in self.conditions.values() for t in c.filter.types})
        ev = self.engine.events(files)
        keep = (ev.timestamp < ibis.literal(end)) & ev.type.isin(types)
        if start is not None:
            keep &= ev.timestamp >= ibis.literal(start)
        ev = ev.filter(keep)
        aliases = self.engine.register(app.aliases).rename(alias_user="user_id")
        groups = self.engine.register(app.groups).rename(group_account="account_id")
        users = self.engine.register(app.users).rename(
            user_key="user_id", user_account="account_id"
        )
        ev = ev.left_join(aliases, ev.anonymous_id == aliases.alias_id)
        ev = ev.mutate(user_key=ibis.coalesce(_.user_id, _.alias_user, _.anonymous_id))
        ev = ev.left_join(groups, "group_id").left_join(users, "user_key")
        changes = _offset_changes(start or end - timedelta(days=400), end, self.zone)
        ev = ev.mutate(
            account_id=ibis.coalesce(_.group_account, _.user_account),
            day=_local_day(ev.timestamp, changes),
        )
        ev = ev.filter(_.account_id.notnull() | _.contact_id.notnull())
        marks = {
            name: self._matches(ev, c.filter) & self._in_days(ev.day, c)
            for name, c in self.conditions.items()
        }
        # Only what the aggregation needs: the session window would otherwise carry every
        # column (properties, context...) through its sort.
        return ev.select("account_id", "user_key", "contact_id", "day", "timestamp", **marks)

    @staticmethod
    def _in_days(day: ir.IntegerValue, cond: _Condition) -> ir.BooleanValue:
        test = day <= cond.last
        return test if cond.first is None else test & (day >= cond.first)

    # -- stage 1: account, user, day ------------------------------------------------
    def _session_conditions(self) -> set[str]:
        return {
            self._condition(d.spec.filter, d.spec.window_days)
            for d in self.definitions
            if isinstance(d.spec, EventMetric) and d.spec.aggregation == "sessions"
        }

    def _per_user_day(self, ev: ir.Table) -> ir.Table:
        sessions = self._session_conditions()
        if sessions:
            seconds = ev.timestamp.epoch_seconds()
            previous = {}
            for name in sorted(sessions):
                window = ibis.window(group_by=[ev.user_key, ev[name]], order_by=ev.timestamp)
                previous[f"{name}_p"] = seconds.lag().over(window)
            ev = ev.mutate(_seconds=seconds, **previous)  # each window once, not per use
            starts = {}
            for name in sorted(sessions):
                before = ev[f"{name}_p"]
                gap = before.isnull() | (ev._seconds - before > SESSION_GAP_SECONDS)
                starts[f"{name}_s"] = ev[name] & gap
            ev = ev.mutate(**starts)
        # COUNT(*) FILTER: cheaper per row than summing booleans cast to integers.
        sums = {name: ev.count(where=ev[name]) for name in self.conditions}
        sums |= {f"{n}_s": ev.count(where=ev[f"{n}_s"]) for n in sessions}
        return ev.group_by(["account_id", "user_key", "contact_id", "day"]).aggregate(**sums)

    # -- stage 2: account ---------------------------------------------------------------
    def _aggregate(self, s1: ir.Table, aggregation: str, name: str) -> ir.Value:
        hit = s1[name] > 0
        if aggregation == "count":
            return s1[name].sum()
        if aggregation == "active_users":
            return s1.user_key.nunique(where=hit)
        if aggregation == "active_days":
            return s1.day.nunique(where=hit)
        if aggregation == "sessions":
            return s1[f"{name}_s"].sum()
        if aggregation == "active_contacts":
            return s1.contact_id.nunique(where=hit)
        return s1.day.max(where=hit)  # days_since_last: the last active day

    def _per_account(self, s1: ir.Table) -> ir.Table:
        by_key = {d.key: d for d in self.definitions}
        aggs: dict[str, ir.Value] = {}
        for d in self.definitions:
            spec = d.spec
            if isinstance(spec, EventMetric):
                name = self._condition(spec.filter, spec.window_days)
                aggs[f"_e_{d.key}"] = self._aggregate(s1, spec.aggregation, name)
            elif isinstance(spec, TrendMetric):
                base = by_key[spec.of].spec
                assert isinstance(base, EventMetric) and base.window_days
                name = self._condition(base.filter, base.window_days, shift=base.window_days)
                aggs[f"_p_{d.key}"] = self._aggregate(s1, base.aggregation, name)
            elif isinstance(spec, FeatureAdoptionMetric):
                for i, feature in enumerate(spec.features):
                    name = self._condition(EventFilter(events=[feature]), spec.window_days)
                    aggs[f"_f_{d.key}_{i}"] = s1[name].sum()
        s1 = s1.filter(s1.account_id.notnull())
        return s1.group_by(_a2=s1.account_id).aggregate(**aggs)

    def _key_persons(self, s1: ir.Table, app: AppData) -> ir.Table | None:
        metrics = [d for d in self.definitions if isinstance(d.spec, KeyPersonMetric)]
        if not metrics:
            return None
        known = s1.filter(s1.contact_id.notnull())
        last_days: dict[str, ir.Value] = {}
        for d in metrics:
            assert isinstance(d.spec, KeyPersonMetric)
            name = self._condition(_ACTIVITY, d.spec.window_days)
            last_days[f"_l_{d.key}"] = known.day.max(where=known[name] > 0)
        per_contact = known.group_by(_c=known.contact_id).aggregate(**last_days)
        people = self.engine.register(app.key_persons)
        people = people.left_join(per_contact, people.contact_id == per_contact._c)
        stats: dict[str, ir.Value] = {}
        for d in metrics:
            assert isinstance(d.spec, KeyPersonMetric)
            idle = ibis.coalesce(self.today - people[f"_l_{d.key}"], d.spec.window_days)
            stats[f"_k_{d.key}"] = idle.max() if d.spec.stat == "max" else idle.min()
        return people.group_by(_a3=people.account_id).aggregate(**stats)

    # -- final values -------------------------------------------------------------------
    def _base_value(self, wide: ir.Table, d: MetricDefinition) -> ir.Value | None:
        spec = d.spec
        if isinstance(spec, EventMetric):
            column = wide[f"_e_{d.key}"]
            if spec.aggregation == "days_since_last":
                return self.today - column
            return ibis.coalesce(column, 0)
        if isinstance(spec, FeatureAdoptionMetric):
            used = [
                (ibis.coalesce(wide[f"_f_{d.key}_{i}"], 0) > 0).cast("int64")
                for i in range(len(spec.features))
            ]
            return sum(used[1:], used[0]).cast("float64") / len(spec.features)
        if isinstance(spec, KeyPersonMetric):
            return wide[f"_k_{d.key}"]
        if isinstance(spec, SeatsMetric):
            return wide.seats
        if isinstance(spec, InvitedContactsMetric):
            return ibis.coalesce(wide.invited_contacts, 0)
        return None

    @staticmethod
    def _share(numerator: ir.Value, denominator: ir.Value) -> ir.Value:
        top, bottom = numerator.cast("float64"), denominator.cast("float64")
        return ibis.ifelse(bottom > 0, top / bottom, ibis.null("float64"))

    def _values(self, wide: ir.Table) -> dict[str, ir.Value]:
        values: dict[str, ir.Value] = {}
        for d in self.definitions:
            value = self._base_value(wide, d)
            if value is not None:
                values[d.key] = value
        for d in self.definitions:
            if isinstance(d.spec, RatioMetric):
                values[d.key] = self._share(values[d.spec.numerator], values[d.spec.denominator])
            elif isinstance(d.spec, TrendMetric):
                values[d.key] = self._share(
                    values[d.spec.of], ibis.coalesce(wide[f"_p_{d.key}"], 0)
                )
        return {key: value.cast("float64") for key, value in values.items()}

    def expression(self, files: list, app: AppData) -> ir.Table:
        """account_id plus one float column per metric key, one row per account."""
        self._collect()
        s1 = self._per_user_day(self._attributed(files, app))
        wide = self.engine.register(app.accounts)
        per_account = self._per_account(s1)
        wide = wide.left_join(per_account, wide.account_id == per_account._a2)
        key_persons = self._key_persons(s1, app)
        if key_persons is not None:
            wide = wide.left_join(key_persons, wide.account_id == key_persons._a3)
        return wide.select("account_id", **self._values(wide))

    def run(self, files: list, app: AppData) -> pa.Table:
        """Long form: account_id, metric_key, value (null where a metric has no value)."""
        result = self.engine.to_arrow(self.expression(files, app))
        return to_long(result, [d.key for d in self.definitions])


def to_long(wide: pa.Table, keys: list[str]) -> pa.Table:
    """One row per account and metric, from one column per metric (columns, not accounts)."""
    parts = [
        pa.table(
            {
                "account_id": wide.column("account_id").cast(pa.int64()),
                "metric_key": pa.array([key] * wide.num_rows, pa.string()),
                "value": wide.column(key).cast(pa.float64()),
            }
        )
        for key in keys
    ]
    if not parts:
        return pa.table({"account_id": [], "metric_key": [], "value": []})
    return pa.concat_tables(parts)
