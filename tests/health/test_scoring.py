"""Points, weighted scores with missing values re-scaled, and bands: for all accounts at once."""

from __future__ import annotations

import numpy as np
import pytest

from banso.health.definitions import parse_spec
from banso.health.scoring import points, score

nan = np.nan


def _spec(**extra: object) -> object:
    return parse_spec(
        {
            "key": "adoption",
            "name": "Adoption",
            "categories": [
                {
                    "name": "Usage",
                    "measures": [
                        {
                            "key": "days",
                            "label": "Active days",
                            "metric": "active_days_30d",
                            "linear": {"zero_at": 0, "full_at": 20},
                            "weight": 30,
                        },
                        {
                            "key": "logins",
                            "label": "Logins",
                            "metric": "logins_30d",
                            "thresholds": [
                                {"at_least": 5, "points": 50},
                                {"at_least": 20, "points": 100},
                            ],
                            "otherwise": 10,
                            "weight": 10,
                        },
                    ],
                }
            ],
            **extra,
        }
    )


def test_it_scales_linearly_and_clips() -> None:
    spec = _spec()
    days = spec.measures[0]
    assert points(days, np.array([-5.0, 0.0, 5.0, 20.0, 40.0, nan])).tolist()[:5] == [
        0.0,
        0.0,
        25.0,
        100.0,
        100.0,
    ]
    assert np.isnan(points(days, np.array([nan])))[0]


def test_it_scales_the_other_way_when_less_is_better() -> None:
    spec = parse_spec(
        {
            "key": "k",
            "name": "K",
            "categories": [
                {
                    "name": "C",
                    "measures": [
                        {
                            "key": "idle",
                            "label": "Idle days",
                            "metric": "days_since_last_activity",
                            "linear": {"zero_at": 30, "full_at": 0},
                            "weight": 1,
                        }
                    ],
                }
            ],
        }
    )
    assert points(spec.measures[0], np.array([0.0, 15.0, 30.0, 60.0])).tolist() == [
        100.0,
        50.0,
        0.0,
        0.0,
    ]


def test_it_gives_the_highest_threshold_reached() -> None:
    logins = _spec().measures[1]
    got = points(logins, np.array([0.0, 4.99, 5.0, 19.0, 20.0, 100.0]))
    assert got.tolist() == [10.0, 10.0, 50.0, 50.0, 100.0, 100.0]


def test_it_weighs_points_and_rescales_without_missing_values() -> None:
    spec = _spec()
    raw = {"days": np.array([10.0, nan, 20.0, nan]), "logins": np.array([20.0, 20.0, 0.0, nan])}
    s = score(spec, [1, 2, 3, 4], raw)
    # account 1: 50 points × 30/40 + 100 × 10/40 = 62.5; account 2: only logins counts
    assert s.score[0] == pytest.approx(62.5)
    assert s.score[1] == pytest.approx(100.0)
    assert s.score[2] == pytest.approx(100 * 0.75 + 10 * 0.25)
    assert np.isnan(s.score[3])
    assert s.shares[1].tolist() == [0.0, 1.0]
    assert s.contributions().sum(axis=1)[:3] == pytest.approx(s.score[:3])
    assert s.bands == ["yellow", "green", "green", None]


def test_it_puts_a_score_on_a_band_limit_in_the_upper_band() -> None:
    spec = _spec(
        bands=[
            {"key": "low", "label": "Low", "min": 0},
            {"key": "mid", "label": "Mid", "min": 40},
            {"key": "high", "label": "High", "min": 70},
        ]
    )
    raw = {"days": np.array([7.9, 8.0, 14.0, 0.0]), "logins": np.full(4, nan)}
    assert score(spec, [1, 2, 3, 4], raw).bands == ["low", "mid", "high", "low"]


def test_it_scores_nobody_without_error() -> None:
    s = score(_spec(), [], {"days": np.empty(0), "logins": np.empty(0)})
    assert s.account_ids == [] and s.bands == []


def test_it_lets_weights_be_overridden() -> None:
    raw = {"days": np.array([20.0]), "logins": np.array([0.0])}
    s = score(_spec(), [1], raw, weights={"days": 0, "logins": 1})
    assert s.score[0] == pytest.approx(10.0)
