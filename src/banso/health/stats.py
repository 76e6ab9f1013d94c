"""The statistics of a backtest: AUC, lift by decile, calibration, logistic regression.

Pure numpy and no database: the backtest gathers scores and outcomes, these functions judge
them. An outcome is 0 or 1 (True or False); "risk" is any number where higher should mean
the outcome is more likely to be 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Decile:
    """One rank group of a lift table; decile 1 holds the highest risk."""

    decile: int
    count: int
    positives: int
    rate: float
    lift: float | None  # rate / overall rate; None when there are no positives at all
    cumulative_capture: float | None  # share of all positives in deciles 1..this one


@dataclass(frozen=True)
class CalibrationBin:
    """Predictions in [lower, upper) (the last bin also holds 1.0) and what happened."""

    lower: float
    upper: float
    count: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True)
class GroupRate:
    """How often the outcome happened in one group."""

    group: str
    count: int
    positives: int
    rate: float


@dataclass(frozen=True, eq=False)
class LogisticFit:
    """A fitted model: P(outcome = 1) = 1 / (1 + exp(-(features @ coef + intercept)))."""

    coef: Floats
    intercept: float
    iterations: int
    converged: bool

    def predict_probability(self, features: npt.ArrayLike) -> Floats:
        """The probability of outcome 1 for each row of ``features``."""
        x = _matrix(features, "features")
        if x.shape[1] != len(self.coef):
            raise ValueError(
                f"features have {x.shape[1]} columns but the model was fitted on {len(self.coef)}"
            )
        return _sigmoid(x @ self.coef + self.intercept)


def _vector(values: npt.ArrayLike, name: str) -> Floats:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(np.isnan(array))
    if len(bad):
        raise ValueError(f"{name} contains NaN (first at position {bad[0]})")
    return array


def _matrix(values: npt.ArrayLike, name: str) -> Floats:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be two-dimensional (rows, columns), got {array.shape}")
    if not np.isfinite(array).all():
        row, column = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"{name} contains NaN or infinity (first at row {row}, column {column})")
    return array


def _outcome(outcome: npt.ArrayLike, length: int, other: str) -> NDArray[np.int64]:
    array = np.asarray(outcome)
    if array.ndim != 1:
        raise ValueError(f"outcome must be one-dimensional, got shape {array.shape}")
    if len(array) != length:
        raise ValueError(f"{other} and outcome have different lengths ({length} and {len(array)})")
    bad = np.flatnonzero((array != 0) & (array != 1))
    if len(bad):
        raise ValueError(f"outcome must be 0 or 1, got {array[bad[0]]!r} at position {bad[0]}")
    return array.astype(np.int64)


def _average_ranks(values: Floats) -> Floats:
    """Ranks 1..n, tied values sharing the mean of the ranks they span."""
    _unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2.0)[inverse]


def roc_auc(risk: npt.ArrayLike, outcome: npt.ArrayLike) -> float | None:
    """Area under the ROC curve (ties count half); None unless both outcomes occur."""
    scores = _vector(risk, "risk")
    y = _outcome(outcome, len(scores), "risk")
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return None
    # Mann-Whitney: the rank sum of the positives beyond the least it could be.
    rank_sum = float(_average_ranks(scores)[y == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def lift_by_decile(risk: npt.ArrayLike, outcome: npt.ArrayLike, groups: int = 10) -> list[Decile]:
    """Outcome rate per rank group, highest risk first; ties keep their input order."""
    if groups < 1:
        raise ValueError(f"groups must be at least 1, got {groups}")
    scores = _vector(risk, "risk")
    y = _outcome(outcome, len(scores), "risk")
    if len(y) == 0:
        return []
    total = int(y.sum())
    overall = total / len(y)
    order = np.argsort(-scores, kind="stable")
    deciles = []
    captured = 0
    for number, rows in enumerate(np.array_split(order, min(groups, len(y))), start=1):
        positives = int(y[rows].sum())
        captured += positives
        rate = positives / len(rows)
        deciles.append(
            Decile(
                decile=number,
                count=len(rows),
                positives=positives,
                rate=rate,
                lift=rate / overall if total else None,
                cumulative_capture=captured / total if total else None,
            )
        )
    return deciles


def calibration(
    probability: npt.ArrayLike, outcome: npt.ArrayLike, bins: int = 10
) -> list[CalibrationBin]:
    """Mean prediction and observed rate per equal-width bin of [0, 1]; empty bins left out."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    p = _vector(probability, "probability")
    y = _outcome(outcome, len(p), "probability")
    outside = np.flatnonzero((p < 0) | (p > 1))
    if len(outside):
        raise ValueError(
            f"probability must lie in [0, 1], got {p[outside[0]]} at position {outside[0]}"
        )
    edges = np.linspace(0.0, 1.0, bins + 1)
    # [lower, upper) like np.histogram, with 1.0 in the last bin.
    index = np.minimum(np.searchsorted(edges, p, side="right") - 1, bins - 1)
    found = []
    for b in np.unique(index).tolist():
        members = index == b
        found.append(
            CalibrationBin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                count=int(members.sum()),
                mean_predicted=float(p[members].mean()),
                observed_rate=float(y[members].mean()),
            )
        )
    return found


def rate_by_group(groups: Sequence[str], outcome: npt.ArrayLike) -> dict[str, GroupRate]:
    """Count, positives and rate of the outcome per group, keyed and ordered by group name."""
    y = _outcome(outcome, len(groups), "groups")
    counts: dict[str, list[int]] = {}
    for group, value in zip(groups, y.tolist(), strict=True):
        tally = counts.setdefault(group, [0, 0])
        tally[0] += 1
        tally[1] += value
    return {
        group: GroupRate(group, count, positives, positives / count)
        for group, (count, positives) in sorted(counts.items())
    }


def standardise(features: npt.ArrayLike) -> tuple[Floats, Floats, Floats]:
    """Columns scaled to mean 0 and standard deviation 1: (scaled, mean, scale).

    A constant column gets scale 1 (it becomes all zeros), so ``coef / scale`` converts
    coefficients fitted on the scaled columns back to the original units."""
    x = _matrix(features, "features")
    if len(x) == 0:
        raise ValueError("features have no rows")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[np.ptp(x, axis=0) == 0] = 1.0
    return (x - mean) / scale, mean, scale


def _sigmoid(z: Floats) -> Floats:
    # exp of a non-positive number only: no overflow for large |z|.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def fit_logistic(
    features: npt.ArrayLike,
    outcome: npt.ArrayLike,
    l2: float = 1.0,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> LogisticFit:
    """L2-regularised logistic regression by Newton's method (IRLS).

    Minimises the summed log-loss + (l2 / 2) * ||coef||², the intercept not penalised: the
    same model as scikit-learn's ``LogisticRegression(C=1 / l2)``. Stops when every gradient
    component is below ``tol`` times the number of rows."""
    x = _matrix(features, "features")
    y = _outcome(outcome, len(x), "features").astype(np.float64)
    if not l2 > 0:
        raise ValueError(f"l2 must be positive, got {l2}")
    if len(y) == 0 or y.min() == y.max():
        raise ValueError("outcome must contain both 0 and 1 to fit a model")
    n, k = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    penalty = np.full(k + 1, l2)
    penalty[k] = 0.0  # the intercept

    def objective(w: Floats) -> float:
        z = design @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(penalty * w * w))

    w = np.zeros(k + 1)
    w[k] = np.log(y.mean() / (1 - y.mean()))  # start from the base rate
    loss = objective(w)
    converged = False
    iterations = 0
    while True:
        z = design @ w
        gradient = design.T @ (_sigmoid(z) - y) + penalty * w
        if np.max(np.abs(gradient)) <= tol * n:
            converged = True
            break
        if iterations == max_iter:
            break
        e = np.exp(-np.abs(z))
        weight = e / (1.0 + e) ** 2  # p (1 - p), without the rounding of 1 - p
        hessian = (design.T * weight) @ design + np.diag(penalty)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        # Halve the step until the objective does not grow; a full step is the rule.
        t = 1.0
        while t > 1e-12:
            candidate = w - t * step
            new_loss = objective(candidate)
            if new_loss <= loss + 1e-12 * abs(loss):
                break
            t /= 2.0
        else:
            break  # no step helps: as close as floating point gets
        w, loss = candidate, new_loss
        iterations += 1
    return LogisticFit(w[:k].copy(), float(w[k]), iterations, converged)
