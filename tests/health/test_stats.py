"""The backtest's statistics agree with scikit-learn, on random data and on real churn data."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from banso.health import stats

TELCO = Path(__file__).parent.parent / "data" / "churn" / "telco_churn_sample.csv"


def _logistic_data(seed: int, rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3)) * [1.0, 10.0, 0.1] + [0.0, 50.0, 1.0]
    z = 0.8 * x[:, 0] - 0.05 * (x[:, 1] - 50.0) + 3.0 * (x[:, 2] - 1.0) - 1.0
    y = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(int)
    return x, y


def _sklearn(x: np.ndarray, y: np.ndarray, l2: float) -> LogisticRegression:
    return LogisticRegression(C=1 / l2, tol=1e-10, max_iter=10000).fit(x, y)


def _telco() -> list[dict[str, str]]:
    with TELCO.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_computes_the_auc_of_sklearn_with_many_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=500)
    risk = rng.integers(0, 6, size=500) + y  # six values only, so most scores are tied
    expected = roc_auc_score(y, risk)
    for found in (stats.roc_auc(risk, y), stats.roc_auc(risk.tolist(), y.tolist())):
        assert found is not None and abs(found - expected) < 1e-12


def test_it_gives_1_for_a_perfect_ranking_0_for_an_inverted_one_and_half_for_all_ties() -> None:
    y = [0, 0, 1, 0, 1, 1]
    risk = [0.1, 0.2, 0.9, 0.3, 0.8, 0.7]
    assert stats.roc_auc(risk, y) == 1.0 == roc_auc_score(y, risk)
    assert stats.roc_auc([-r for r in risk], y) == 0.0
    assert stats.roc_auc([5] * 6, [bool(v) for v in y]) == 0.5


def test_it_gives_no_auc_when_only_one_outcome_happened() -> None:
    assert stats.roc_auc([0.1, 0.5, 0.9], [0, 0, 0]) is None
    assert stats.roc_auc([0.1, 0.5, 0.9], [1, 1, 1]) is None
    assert stats.roc_auc([], []) is None


@pytest.mark.parametrize(
    ("risk", "outcome", "message"),
    [
        ([0.1, 0.2, 0.3], [0, 1], "different lengths"),
        ([0.1, float("nan"), 0.3], [0, 1, 0], "NaN"),
        ([0.1, 0.2, 0.3], [0, 2, 1], "0 or 1"),
        ([[0.1, 0.2]], [0, 1], "one-dimensional"),
    ],
)
def test_it_rejects_bad_input_naming_the_problem(
    risk: list[float], outcome: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        stats.roc_auc(risk, outcome)
    with pytest.raises(ValueError, match=message):
        stats.lift_by_decile(risk, outcome)


def test_it_splits_lift_by_rank_with_ties_in_input_order() -> None:
    # Descending risk: rows 0, 5, 2 | 3, 6 | 1, 4 (rows 2 and 3 tie; row 2 comes first).
    risk = [5, 1, 3, 3, 0, 4, 2]
    outcome = [1, 1, 0, 1, 0, 1, 0]
    deciles = stats.lift_by_decile(risk, outcome, groups=3)
    assert [(d.decile, d.count, d.positives) for d in deciles] == [(1, 3, 2), (2, 2, 1), (3, 2, 1)]
    assert [d.rate for d in deciles] == pytest.approx([2 / 3, 1 / 2, 1 / 2])
    assert [d.lift for d in deciles] == pytest.approx([7 / 6, 7 / 8, 7 / 8])
    assert [d.cumulative_capture for d in deciles] == pytest.approx([0.5, 0.75, 1.0])


def test_it_makes_ten_deciles_as_equal_as_possible_and_fewer_for_few_rows() -> None:
    rng = np.random.default_rng(4)
    deciles = stats.lift_by_decile(rng.random(95), rng.integers(0, 2, size=95))
    assert [d.count for d in deciles] == [10] * 5 + [9] * 5
    few = stats.lift_by_decile([0.3, 0.1, 0.2], [0, 0, 0])
    assert [(d.decile, d.count) for d in few] == [(1, 1), (2, 1), (3, 1)]
    assert {(d.lift, d.cumulative_capture) for d in few} == {(None, None)}
    assert stats.lift_by_decile([], []) == []


@pytest.mark.parametrize(("seed", "bins"), [(5, 10), (6, 7), (7, 20)])
def test_it_calibrates_like_sklearn(seed: int, bins: int) -> None:
    rng = np.random.default_rng(seed)
    probability = rng.random(300) ** 3  # most near 0: the upper bins are sparse or empty
    outcome = (rng.random(300) < probability).astype(int)
    outcome[:2] = [0, 1]
    found = stats.calibration(probability, outcome, bins=bins)
    observed, predicted = calibration_curve(outcome, probability, n_bins=bins, strategy="uniform")
    assert len(found) == len(observed)
    assert np.abs([b.observed_rate for b in found] - observed).max() < 1e-12
    assert np.abs([b.mean_predicted for b in found] - predicted).max() < 1e-12
    assert sum(b.count for b in found) == 300
    assert all(b.lower < b.mean_predicted < b.upper for b in found)


def test_it_puts_a_probability_on_an_edge_in_the_upper_bin_and_1_in_the_last() -> None:
    found = stats.calibration([0.0, 0.5, 1.0, 0.99], [0, 1, 1, 0], bins=2)
    assert [(b.lower, b.upper, b.count) for b in found] == [(0.0, 0.5, 1), (0.5, 1.0, 3)]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        stats.calibration([0.2, 1.2], [0, 1])


def test_it_counts_the_rate_per_group() -> None:
    rates = stats.rate_by_group(["red", "green", "red", "yellow", "red"], [1, 0, 0, 0, 1])
    assert list(rates) == ["green", "red", "yellow"]
    assert rates["red"] == stats.GroupRate("red", count=3, positives=2, rate=2 / 3)
    assert rates["green"].rate == 0.0
    with pytest.raises(ValueError, match="different lengths"):
        stats.rate_by_group(["red"], [1, 0])


@pytest.mark.parametrize("l2", [1.0, 0.05])
def test_it_fits_the_same_logistic_model_as_sklearn(l2: float) -> None:
    x, y = _logistic_data(seed=8)
    fit = stats.fit_logistic(x, y, l2=l2)
    reference = _sklearn(x, y, l2)
    assert fit.converged
    assert np.abs(fit.coef - reference.coef_[0]).max() < 1e-5
    assert abs(fit.intercept - reference.intercept_[0]) < 1e-5
    new_x, _ = _logistic_data(seed=9, rows=50)
    expected = reference.predict_proba(new_x)[:, 1]
    assert np.abs(fit.predict_probability(new_x) - expected).max() < 1e-6


def test_it_fits_separable_data_without_running_away() -> None:
    x = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    fit = stats.fit_logistic(x, [0, 0, 1, 1], l2=0.01)
    assert fit.converged
    assert abs(fit.coef[0] - _sklearn(x, np.array([0, 0, 1, 1]), 0.01).coef_[0, 0]) < 1e-5


@pytest.mark.parametrize(
    ("features", "outcome", "message"),
    [
        ([[1.0], [2.0]], [1, 1], "both 0 and 1"),
        ([1.0, 2.0], [0, 1], "two-dimensional"),
        ([[1.0], [2.0]], [0, 1, 1], "different lengths"),
        ([[1.0], [float("nan")]], [0, 1], "row 1, column 0"),
    ],
)
def test_it_refuses_to_fit_bad_input(
    features: list[list[float]], outcome: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        stats.fit_logistic(features, outcome)


def test_it_refuses_a_penalty_that_is_not_positive_and_features_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="l2 must be positive"):
        stats.fit_logistic([[1.0], [2.0]], [0, 1], l2=0.0)
    fit = stats.fit_logistic([[1.0], [2.0]], [0, 1])
    with pytest.raises(ValueError, match="2 columns but the model was fitted on 1"):
        fit.predict_probability([[1.0, 2.0]])


def test_it_standardises_like_sklearn_and_leaves_constant_columns_at_scale_1() -> None:
    x, _ = _logistic_data(seed=10)
    x[:, 1] = 7.0
    scaled, mean, scale = stats.standardise(x)
    reference = StandardScaler().fit(x)
    assert np.abs(scaled - reference.transform(x)).max() < 1e-12
    assert np.abs(mean - reference.mean_).max() < 1e-12
    assert np.abs(scale - reference.scale_).max() < 1e-12
    assert scale[1] == 1.0
    assert not scaled[:, 1].any()


def test_it_agrees_with_sklearn_on_the_telco_churn_sample() -> None:
    rows = _telco()
    assert len(rows) == 1761
    churn = np.array([r["Churn"] == "Yes" for r in rows], dtype=int)
    assert churn.sum() == 459
    tenure = np.array([float(r["tenure"]) for r in rows])
    # Short tenure should mean churn.
    auc = stats.roc_auc(-tenure, churn)
    assert auc is not None and auc > 0.7
    assert abs(auc - roc_auc_score(churn, -tenure)) < 1e-12
    features = np.column_stack(
        [
            tenure,
            [float(r["MonthlyCharges"]) for r in rows],
            [r["Contract"] == "Month-to-month" for r in rows],
        ]
    )
    scaled, _mean, scale = stats.standardise(features)
    fit = stats.fit_logistic(scaled, churn, l2=1.0)
    reference = _sklearn(scaled, churn, 1.0)
    assert np.abs(fit.coef - reference.coef_[0]).max() < 1e-5
    per_unit = fit.coef / scale
    assert per_unit[0] < 0 < per_unit[2]  # longer tenure keeps, month-to-month leaves
    deciles = stats.lift_by_decile(fit.predict_probability(scaled), churn)
    assert deciles[0].lift is not None and deciles[0].lift > 2


def test_it_rejects_zero_groups_bins_or_rows() -> None:
    with pytest.raises(ValueError, match="groups must be at least 1"):
        stats.lift_by_decile([0.5], [1], groups=0)
    with pytest.raises(ValueError, match="bins must be at least 1"):
        stats.calibration([0.5], [1], bins=0)
    with pytest.raises(ValueError, match="no rows"):
        stats.standardise(np.zeros((0, 2)))
