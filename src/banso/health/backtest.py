"""Does the score predict what happened? Past snapshots joined to what each account did next.

For every stored snapshot in a date range whose horizon has fully passed, the outcome is
whether the account churned (or contracted, renewed, expanded) within the horizon after the
snapshot date. The score should rank the churners low: the backtest reports the AUC, the lift
by decile, a calibration table, the churn rate per band and each measure's own AUC.

Suggested weights come from a regularised logistic regression of the outcome on the measures'
points, fitted on the earlier dates and judged, beside the weights in force, on the later ones.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.contracts.models import ContractMovement
from banso.errors import InvalidInput
from banso.health import stats
from banso.health.definitions import ScorecardSpec
from banso.health.models import HealthSnapshot, Scorecard
from banso.health.scoring import score_points

Outcome = Literal["churn", "downsell", "contraction", "renewal", "expansion"]
OUTCOMES: dict[str, tuple[str, ...]] = {
    "churn": ("churn",),
    "downsell": ("churn", "contraction"),
    "contraction": ("contraction",),
    "renewal": ("renewal",),
    "expansion": ("expansion",),
}
# Outcomes a high score should make likely; the others a low score should.
GOOD_OUTCOMES = ("renewal", "expansion")
MAX_HORIZON_DAYS = 730


@dataclass(frozen=True)
class History:
    """Snapshots of one scorecard with complete horizons, as arrays (one row per snapshot)."""

    keys: list[str]
    account_ids: NDArray[np.int64]
    dates: list[date]
    scores: NDArray[np.float64]
    bands: list[str | None]
    raw: NDArray[np.float64]
    points: NDArray[np.float64]
    outcome: NDArray[np.int64]
    mrr_at_stake: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))


def load_history(
    session: Session,
    card: Scorecard,
    spec: ScorecardSpec,
    start: date,
    end: date,
    horizon_days: int,
    outcome: str,
    today: date,
) -> History:
    """Snapshots dated ``start``..``end`` whose horizon ended by ``today``, with outcomes."""
    if outcome not in OUTCOMES:
        raise InvalidInput.one("--outcome", f"use one of {', '.join(OUTCOMES)}")
    if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
        raise InvalidInput.one("--horizon", f"between 1 and {MAX_HORIZON_DAYS} days")
    if end < start:
        raise InvalidInput.one("--to", f"{end} is before --from {start}")
    last_complete = today - timedelta(days=horizon_days)
    rows = session.execute(
        select(
            HealthSnapshot.account_id,
            HealthSnapshot.as_of,
            HealthSnapshot.score,
            HealthSnapshot.band,
            HealthSnapshot.measures,
        )
        .where(
            HealthSnapshot.scorecard_id == card.id,
            HealthSnapshot.as_of >= start,
            HealthSnapshot.as_of <= min(end, last_complete),
            HealthSnapshot.score.is_not(None),
        )
        .order_by(HealthSnapshot.as_of, HealthSnapshot.account_id)
    ).all()
    keys = [m.key for m in spec.measures]
    n = len(rows)
    raw = np.full((n, len(keys)), np.nan)
    points = np.full((n, len(keys)), np.nan)
    for i, row in enumerate(rows):
        for j, key in enumerate(keys):
            part = row.measures.get(key)
            if part is not None:
                raw[i, j] = np.nan if part["raw"] is None else part["raw"]
                points[i, j] = np.nan if part["points"] is None else part["points"]
    account_ids = np.array([r.account_id for r in rows], dtype=np.int64)
    dates = [r.as_of for r in rows]
    happened = _outcomes(session, account_ids, dates, horizon_days, OUTCOMES[outcome])
    return History(
        keys,
        account_ids,
        dates,
        np.array([r.score for r in rows], dtype=float),
        [r.band for r in rows],
        raw,
        points,
        happened,
    )


def _outcomes(
    session: Session,
    account_ids: NDArray[np.int64],
    dates: list[date],
    horizon_days: int,
    kinds: tuple[str, ...],
) -> NDArray[np.int64]:
    """1 where the account had a movement of ``kinds`` in (as_of, as_of + horizon]."""
    if not dates:
        return np.zeros(0, dtype=np.int64)
    horizon = timedelta(days=horizon_days)
    moves: dict[int, list[date]] = defaultdict(list)
    for account_id, day in session.execute(
        select(ContractMovement.account_id, ContractMovement.effective_date)
        .where(
            ContractMovement.kind.in_(kinds),
            ContractMovement.effective_date > min(dates),
            ContractMovement.effective_date <= max(dates) + horizon,
        )
        .order_by(ContractMovement.effective_date)
    ):
        moves[account_id].append(day)
    out = np.zeros(len(dates), dtype=np.int64)
    for i, (account_id, as_of) in enumerate(zip(account_ids.tolist(), dates, strict=True)):
        days = moves.get(account_id)
        if days:
            first_after = bisect_right(days, as_of)
            out[i] = int(first_after < len(days) and days[first_after] <= as_of + horizon)
    return out


@dataclass(frozen=True)
class MeasureAuc:
    key: str
    label: str
    auc: float | None
    rows: int


@dataclass(frozen=True)
class Report:
    """The backtest of one set of weights on one set of snapshots."""

    outcome: str
    horizon_days: int
    snapshots: int
    accounts: int
    dates: int
    positives: int
    base_rate: float
    auc: float | None
    deciles: list[stats.Decile]
    score_bins: list[stats.GroupRate]
    bands: dict[str, stats.GroupRate]
    measures: list[MeasureAuc]


def _risk(history: History, outcome: str, scores: NDArray[np.float64]) -> NDArray[np.float64]:
    # A low score should predict churn; a high one renewal or expansion.
    return scores if outcome in GOOD_OUTCOMES else -scores


def _score_bins(scores: NDArray[np.float64], outcome: NDArray[np.int64]) -> list[stats.GroupRate]:
    """The observed rate per 10-point score range: the score's own calibration table."""
    bins = np.clip((scores // 10).astype(int), 0, 9)
    found = stats.rate_by_group([str(b) for b in bins.tolist()], outcome)
    return [found[str(b)] for b in range(10) if str(b) in found]


def report(
    history: History,
    spec: ScorecardSpec,
    outcome: str,
    horizon_days: int,
    weights: dict[str, float] | None = None,
    rows: NDArray[np.bool_] | None = None,
) -> Report:
    """Backtest ``spec`` (or the same measures with ``weights``) on the chosen ``rows``."""
    chosen = rows if rows is not None else np.ones(len(history.dates), dtype=bool)
    points = history.points[chosen]
    y = history.outcome[chosen]
    if weights is None:
        scores, bands = (
            history.scores[chosen],
            [b for b, c in zip(history.bands, chosen, strict=True) if c],
        )
    else:
        rescored = score_points(spec, [], history.raw[chosen], points, weights)
        scores, bands = rescored.score, rescored.bands
    risk = _risk(history, outcome, scores)
    labels = {m.key: m.label for m in spec.measures}
    measure_aucs = []
    for j, key in enumerate(history.keys):
        present = ~np.isnan(points[:, j])
        own = points[present, j]
        measure_aucs.append(
            MeasureAuc(
                key,
                labels.get(key, key),
                stats.roc_auc(_risk(history, outcome, own), y[present]) if present.any() else None,
                int(present.sum()),
            )
        )
    kept_dates = {d for d, c in zip(history.dates, chosen, strict=True) if c}
    return Report(
        outcome=outcome,
        horizon_days=horizon_days,
        snapshots=len(y),
        accounts=len(set(history.account_ids[chosen].tolist())),
        dates=len(kept_dates),
        positives=int(y.sum()),
        base_rate=float(y.mean()) if len(y) else 0.0,
        auc=stats.roc_auc(risk, y) if len(y) else None,
        deciles=stats.lift_by_decile(risk, y) if len(y) else [],
        score_bins=_score_bins(scores, y) if len(y) else [],
        bands=_in_band_order(spec, stats.rate_by_group([b or "-" for b in bands], y))
        if len(y)
        else {},
        measures=measure_aucs,
    )


def _in_band_order(
    spec: ScorecardSpec, rates: dict[str, stats.GroupRate]
) -> dict[str, stats.GroupRate]:
    order = [b.key for b in spec.bands]
    return dict(sorted(rates.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


@dataclass(frozen=True)
class FittedWeights:
    """A logistic model of the outcome on the measures' points, turned into weights."""

    weights: dict[str, float]
    per_point: dict[str, float]
    fit: stats.LogisticFit
    fill: NDArray[np.float64]  # a missing value counts as the measure's mean
    centre: NDArray[np.float64]
    scale: NDArray[np.float64]

    def probability(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        filled = np.where(np.isnan(points), self.fill, points)
        return self.fit.predict_probability((filled - self.centre) / self.scale)


def fit_weights(
    history: History,
    outcome: str,
    rows: NDArray[np.bool_],
    l2: float = 1.0,
    current: dict[str, float] | None = None,
) -> FittedWeights:
    """Fit on ``rows``; the weights sum to 100.

    A measure whose effect points the wrong way (more points, more churn) gets weight 0. A
    measure with no value in ``rows`` (a rating nobody gave yet) cannot be judged: it keeps its
    share of the ``current`` weights and the fitted measures share the rest."""
    y = history.outcome[rows]
    if len(y) == 0 or y.min() == y.max():
        raise InvalidInput.one("--outcome", "no variety in the outcome: nothing to learn from")
    points = history.points[rows]
    known: NDArray[np.bool_] = np.asarray((~np.isnan(points)).any(axis=0), dtype=bool)
    fill = np.array([np.nanmean(c) if k else 0.0 for c, k in zip(points.T, known, strict=True)])
    filled = np.where(np.isnan(points), fill, points)
    scaled, centre, scale = stats.standardise(filled)
    fit = stats.fit_logistic(scaled, y, l2=l2)
    per_point = fit.coef / scale  # the effect of one more point of each measure
    direction = 1.0 if outcome in GOOD_OUTCOMES else -1.0
    useful = np.where(known, np.clip(direction * per_point, 0.0, None), 0.0)
    if useful.sum() <= 0:
        raise InvalidInput.one(
            "--outcome", "no measure predicts the outcome in the right direction"
        )
    before = np.array([(current or {}).get(k, 0.0) for k in history.keys], dtype=float)
    kept = np.where(known, 0.0, before) / before.sum() * 100 if before.sum() > 0 else before * 0
    fitted = useful / useful.sum() * (100.0 - kept.sum())
    return FittedWeights(
        weights={
            k: round(float(w), 1)
            for k, w in zip(history.keys, np.where(known, fitted, kept), strict=True)
        },
        per_point={
            k: float(c) for k, c, ok in zip(history.keys, per_point, known, strict=True) if ok
        },
        fit=fit,
        fill=fill,
        centre=centre,
        scale=scale,
    )


@dataclass(frozen=True)
class Suggestion:
    """Weights fitted on the earlier dates, and both sets of weights judged on the later ones."""

    current: dict[str, float]
    proposed: dict[str, float]
    coefficients: dict[str, float]
    train_dates: tuple[date, date]
    test_dates: tuple[date, date]
    current_report: Report
    proposed_report: Report
    calibration: list[stats.CalibrationBin]


def suggest_weights(
    history: History,
    spec: ScorecardSpec,
    outcome: str,
    horizon_days: int,
    l2: float = 1.0,
    train_share: float = 0.67,
) -> Suggestion:
    """Weights fitted on the earliest ``train_share`` of the dates, both sets judged on the rest."""
    unique = sorted(set(history.dates))
    if len(unique) < 2:
        raise InvalidInput.one("--from", "the backtest needs snapshots on at least two dates")
    cut = unique[max(0, min(len(unique) - 2, int(len(unique) * train_share) - 1))]
    train = np.array([d <= cut for d in history.dates])
    test = ~train
    current = {m.key: m.weight for m in spec.measures}
    fitted = fit_weights(history, outcome, train, l2, current)
    return Suggestion(
        current=current,
        proposed=fitted.weights,
        coefficients=fitted.per_point,
        train_dates=(unique[0], cut),
        test_dates=(min(d for d in unique if d > cut), unique[-1]),
        current_report=report(history, spec, outcome, horizon_days, current, rows=test),
        proposed_report=report(history, spec, outcome, horizon_days, fitted.weights, rows=test),
        calibration=stats.calibration(
            fitted.probability(history.points[test]), history.outcome[test]
        ),
    )
