"""The standard metrics on a small hand-made history, on DuckDB and on PySpark.

as_of is 2026-11-20 in Asia/Tokyo (UTC+9): the day ends at 2026-11-20 15:00 UTC. Expected
numbers are worked out by hand from the events below (see each comment).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from banso.metrics.definitions import load_yaml, standard_definitions
from banso.metrics.plan import MetricPlan
from tests.metrics.conftest import ENGINES, app_data, event, open_engine, utc, write_events

AS_OF = date(2026, 11, 20)
PRO = '{"plan": "pro", "seats": 3}'
FREE = '{"plan": "free"}'

EVENTS = [
    event(1, utc(2026, 11, 20, 14, 59, 59), "u1"),  # 23:59:59 JST on as_of: counts
    event(2, utc(2026, 11, 20, 15, 0, 0), "u1"),  # 00:00 JST the next day: too late
    # anonymous, aliased to u1 later (late binding): account 1, day T-1
    event(3, utc(2026, 11, 19, 0, 10), None, "Report Created", anonymous_id="a1", properties=PRO),
    event(4, utc(2026, 11, 19, 0, 20), "u2", "Home", "page"),  # u2 session 1
    event(5, utc(2026, 11, 19, 0, 40), "u2", "Report Created"),  # 20 min later: same session
    event(6, utc(2026, 11, 19, 1, 20), "u2", "Task Completed"),  # 40 min later: session 2
    event(7, utc(2026, 10, 10, 3, 0), "u1"),  # T-41: the previous 30-day period
    event(8, utc(2026, 11, 14, 3, 0), "u4", "Report Created", group_id="g2"),  # T-6, via group
    event(9, utc(2026, 11, 20, 1, 0), "u3", None, "identify"),  # not activity
    event(10, utc(2026, 8, 1, 0, 0), "u3"),  # T-111: ever logged in, not in 90 days
    event(11, utc(2026, 11, 20, 1, 0), "zz"),  # nobody knows zz: no account
    event(12, utc(2026, 11, 18, 23, 0), "u1", "Report Created", properties=FREE),  # 08:00 JST T-1
]

APP = app_data(
    users=[("u1", 1, 11), ("u2", 1, None), ("u3", 2, 21), ("u4", None, None)],
    accounts=[(1, 4, 2), (2, None, 1), (3, 0, 0)],
    groups=[("g2", 2)],
    aliases=[("a1", "u1")],
    key_persons=[(11, 1), (12, 1), (21, 2)],
)

EXPECTED = {
    1: {
        "active_users_1d": 1,  # u1 (e1)
        "active_users_7d": 2,
        "active_users_30d": 2,
        "active_days_30d": 2,  # T and T-1
        "events_30d": 6,  # e1 e3 e4 e5 e6 e12
        "logins_30d": 1,
        "sessions_30d": 5,  # u1: e12 | e3 (70 min later) | e1; u2: e4+e5 | e6
        "reports_created_30d": 3,  # e3 e5 e12
        "exports_30d": 0,
        "feature_adoption_30d": 2 / 6,  # Report Created, Task Completed
        "seats": 4,
        "licence_activation": 0.5,  # 2 active users / 4 seats
        "contacts_invited": 2,
        "contacts_logged_in": 1,  # contact 11 (u1)
        "first_login_rate": 0.5,
        "key_person_days_inactive_max": 90,  # contact 12 never active
        "key_person_days_inactive_min": 0,  # contact 11 active on as_of
        "active_users_trend_30d": 2.0,  # 2 users now, 1 (e7) before
        "events_trend_30d": 6.0,
        "days_since_last_activity": 0,
    },
    2: {
        "active_users_1d": 0,
        "active_users_7d": 1,  # u4 through group g2 at T-6
        "active_users_30d": 1,
        "active_days_30d": 1,
        "events_30d": 1,
        "logins_30d": 0,
        "sessions_30d": 1,
        "reports_created_30d": 1,
        "exports_30d": 0,
        "feature_adoption_30d": 1 / 6,
        "seats": None,  # no active contract
        "licence_activation": None,
        "contacts_invited": 1,
        "contacts_logged_in": 1,  # contact 21, e10 (all history)
        "first_login_rate": 1.0,
        "key_person_days_inactive_max": 90,  # last seen T-111, beyond the 90-day window
        "key_person_days_inactive_min": 90,
        "active_users_trend_30d": None,  # nobody in the previous period
        "events_trend_30d": None,
        "days_since_last_activity": 6,
    },
    3: {
        "active_users_30d": 0,
        "events_30d": 0,
        "seats": 0,
        "licence_activation": None,  # zero seats: no ratio
        "first_login_rate": None,
        "key_person_days_inactive_max": None,  # no key persons
        "days_since_last_activity": None,  # never active
        "active_users_trend_30d": None,
    },
}


@pytest.fixture(scope="module", params=ENGINES)
def standard_values(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[int, str], float | None]:
    files = write_events(tmp_path_factory.mktemp("events"), EVENTS)
    engine = open_engine(request.param, request)
    plan = MetricPlan(standard_definitions(), AS_OF, "Asia/Tokyo", engine)
    result = plan.run(files, APP).to_pylist()
    if request.param == "duckdb":
        engine.close()
    return {(r["account_id"], r["metric_key"]): r["value"] for r in result}


CASES = [(account, key, value) for account, m in EXPECTED.items() for key, value in m.items()]


@pytest.mark.parametrize(("account", "key", "expected"), CASES)
def test_it_computes_the_standard_metrics(
    standard_values: dict[tuple[int, str], float | None],
    account: int,
    key: str,
    expected: float | None,
) -> None:
    value = standard_values[(account, key)]
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected)


def test_it_gives_every_account_every_metric(
    standard_values: dict[tuple[int, str], float | None],
) -> None:
    keys = {d.key for d in standard_definitions()}
    assert set(standard_values) == {(a, k) for a in (1, 2, 3) for k in keys}


PROPERTY_METRICS = """
- {key: pro, name: Pro, spec: {kind: events, aggregation: count, window_days: 30,
   filter: {properties: [{key: plan, op: eq, value: pro}]}}}
- {key: not_pro, name: Not pro, spec: {kind: events, aggregation: count, window_days: 30,
   filter: {types: [track, page], properties: [{key: plan, op: ne, value: pro}]}}}
- {key: any_plan, name: Any, spec: {kind: events, aggregation: count, window_days: 30,
   filter: {properties: [{key: plan, op: in, value: [pro, free]}]}}}
- {key: has_seats, name: Seats, spec: {kind: events, aggregation: count, window_days: 30,
   filter: {properties: [{key: seats, op: eq, value: "3"}]}}}
- {key: users_ever, name: Users, spec: {kind: events, aggregation: active_users}}
"""


@pytest.mark.parametrize("engine_name", ENGINES)
def test_it_filters_on_event_properties(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = open_engine(engine_name, request)
    plan = MetricPlan(load_yaml(PROPERTY_METRICS), AS_OF, "Asia/Tokyo", engine)
    rows = plan.run(write_events(tmp_path, EVENTS), APP).to_pylist()
    got = {(r["account_id"], r["metric_key"]): r["value"] for r in rows}
    assert got[(1, "pro")] == 1  # e3
    assert got[(1, "not_pro")] == 5  # e1 e4 e5 e6 e12 (no plan counts as "not pro")
    assert got[(1, "any_plan")] == 2  # e3 e12
    assert got[(1, "has_seats")] == 1  # numbers compare as text
    assert got[(2, "users_ever")] == 2  # u4 (group) and u3 (e10, all history)


DST_METRICS = """
- {key: users_today, name: Today, spec: {kind: events, aggregation: active_users, window_days: 1}}
- {key: days_2, name: Days, spec: {kind: events, aggregation: active_days, window_days: 2}}
"""


@pytest.mark.parametrize("engine_name", ENGINES)
def test_it_counts_local_days_across_a_daylight_saving_change(
    engine_name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # New York leaves daylight saving on 2026-11-01: that day is 25 hours long.
    events = [
        event(1, utc(2026, 11, 1, 4, 0), "a"),  # 00:00 EDT on 11-01
        event(2, utc(2026, 11, 1, 3, 59), "b"),  # 23:59 EDT on 10-31
        event(3, utc(2026, 11, 2, 4, 59), "b"),  # 23:59 EST on 11-01
        event(4, utc(2026, 11, 2, 5, 0), "c"),  # 00:00 EST on 11-02: after as_of
    ]
    app = app_data(users=[("a", 1, None), ("b", 1, None), ("c", 1, None)], accounts=[(1, 1, 0)])
    engine = open_engine(engine_name, request)
    plan = MetricPlan(load_yaml(DST_METRICS), date(2026, 11, 1), "America/New_York", engine)
    got = {
        r["metric_key"]: r["value"]
        for r in plan.run(write_events(tmp_path, events), app).to_pylist()
    }
    assert got == {"users_today": 2, "days_2": 2}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_it_gives_zeros_and_nulls_when_there_are_no_events(
    engine_name: str, request: pytest.FixtureRequest
) -> None:
    engine = open_engine(engine_name, request)
    plan = MetricPlan(standard_definitions(), AS_OF, "Asia/Tokyo", engine)
    got = {
        r["metric_key"]: r["value"] for r in plan.run([], APP).to_pylist() if r["account_id"] == 1
    }
    assert got["active_users_30d"] == 0
    assert got["days_since_last_activity"] is None
    assert got["licence_activation"] == 0.0
    assert got["key_person_days_inactive_min"] == 90
