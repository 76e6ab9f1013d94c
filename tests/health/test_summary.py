"""What the customer page says about a score: its trend and the measures that moved it."""

from __future__ import annotations

from datetime import date

import pytest

from banso.health.models import HealthSnapshot
from banso.health.summary import drivers, trend_of
from tests.health.conftest import small_spec
from tests.health.factories import part


@pytest.mark.parametrize(
    ("change", "trend"),
    [(None, None), (0.0, "flat"), (3.4, "flat"), (-3.4, "flat"), (3.6, "up"), (-12.0, "down")],
)
def test_it_calls_a_change_of_three_points_or_less_flat(
    change: float | None, trend: str | None
) -> None:
    assert trend_of(change) == trend


def _snapshot(days: dict[str, object], mrr: dict[str, object]) -> HealthSnapshot:
    return HealthSnapshot(as_of=date(2026, 11, 1), measures={"days": days, "mrr": mrr})


def test_it_names_the_measures_whose_contribution_changed_most() -> None:
    before = _snapshot(part(10, 50, 0.75), part(40_000, 40, 0.25))
    now = _snapshot(part(5, 25, 0.75), part(60_000, 60, 0.25))
    found = drivers(small_spec(), now, before)
    assert [(d.key, round(d.points, 2)) for d in found] == [("days", -18.75), ("mrr", 5.0)]
    assert found[0].percent == pytest.approx(-50.0)
    assert (found[0].before, found[0].after) == (10, 5)


def test_it_leaves_out_the_percent_from_zero_and_changes_under_half_a_point() -> None:
    before = _snapshot(part(0, 0, 0.75), part(50_000, 50, 0.25))
    now = _snapshot(part(4, 20, 0.75), part(50_500, 50.5, 0.25))
    [days] = drivers(small_spec(), now, before)
    assert days.percent is None and days.points == pytest.approx(15.0)
    assert drivers(small_spec(), now, None) == []


def test_it_says_when_a_measure_lost_its_value() -> None:
    before = _snapshot(part(10, 50, 0.75), part(50_000, 50, 0.25))
    now = _snapshot(part(None, None, 0.0), part(50_000, 50, 1.0))
    found = {d.key: d for d in drivers(small_spec(), now, before)}
    assert found["days"].after is None and found["days"].points == pytest.approx(-37.5)
    assert found["mrr"].points == pytest.approx(37.5)  # it now carries the whole weight
