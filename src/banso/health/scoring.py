"""Points, scores and bands for all accounts at once (numpy; no loop over accounts).

A measure's points are 0-100. The score is the weighted mean of the points of the measures that
have a value; a measure without one is left out and the others' weights are re-scaled, so an
account with half its data is scored on that half (and its snapshot says so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from banso.health.definitions import Measure, ScorecardSpec

Values = NDArray[np.float64]


def points(measure: Measure, raw: Values) -> Values:
    """0-100 points for each raw value (NaN stays NaN)."""
    missing = np.isnan(raw)
    if measure.thresholds is not None:
        out = np.full(raw.shape, float(measure.otherwise))
        safe = np.where(missing, -np.inf, raw)
        for threshold in sorted(measure.thresholds, key=lambda t: t.at_least):
            out[safe >= threshold.at_least] = threshold.points
    elif measure.linear is not None:
        span = measure.linear.full_at - measure.linear.zero_at
        out = np.clip((raw - measure.linear.zero_at) / span, 0.0, 1.0) * 100.0
    else:  # a rating is already 0-100
        out = np.clip(raw, 0.0, 100.0)
    out[missing] = np.nan
    return out


@dataclass(frozen=True)
class Scores:
    """Every scored account's score, band and each measure's raw value, points and share."""

    account_ids: list[int]
    keys: list[str]
    raw: Values  # accounts × measures
    points: Values  # accounts × measures
    shares: Values  # accounts × measures: the weight each measure had, as a fraction (0 if none)
    score: Values  # NaN when no measure has a value
    bands: list[str | None]

    def contributions(self) -> Values:
        """Points × share: what each measure added to the score (sums to the score)."""
        return np.nan_to_num(self.points) * self.shares


def score(
    spec: ScorecardSpec,
    account_ids: Sequence[int],
    raw: Mapping[str, Values],
    weights: Mapping[str, float] | None = None,
) -> Scores:
    """Score ``account_ids`` from each measure's raw values (``weights`` override the spec's)."""
    measures = spec.measures
    keys = [m.key for m in measures]
    n = len(account_ids)
    raw_matrix = np.column_stack([raw[k] for k in keys]) if n else np.empty((0, len(keys)))
    point_matrix = (
        np.column_stack([points(m, raw[m.key]) for m in measures])
        if n
        else np.empty((0, len(keys)))
    )
    return score_points(spec, account_ids, raw_matrix, point_matrix, weights)


def score_points(
    spec: ScorecardSpec,
    account_ids: Sequence[int],
    raw_matrix: Values,
    point_matrix: Values,
    weights: Mapping[str, float] | None = None,
) -> Scores:
    """The score from points already computed (how a backtest re-weighs stored snapshots)."""
    keys = [m.key for m in spec.measures]
    chosen = dict(weights) if weights is not None else {}
    w = np.array([chosen.get(m.key, m.weight) for m in spec.measures], dtype=float)
    present = ~np.isnan(point_matrix)
    weighted = present * w
    total = weighted.sum(axis=1)
    has_any = total > 0
    shares = np.divide(
        weighted, total[:, None], out=np.zeros_like(weighted), where=has_any[:, None]
    )
    scores = np.where(has_any, (np.nan_to_num(point_matrix) * shares).sum(axis=1), np.nan)
    bands = band_keys(spec, scores)
    return Scores(list(account_ids), keys, raw_matrix, point_matrix, shares, scores, bands)


def band_keys(spec: ScorecardSpec, scores: Values) -> list[str | None]:
    """The band of each score (None where there is no score)."""
    limits = np.array([b.min for b in spec.bands])
    index = np.searchsorted(limits, np.nan_to_num(scores, nan=0.0), side="right") - 1
    names = [b.key for b in spec.bands]
    return [None if np.isnan(s) else names[max(i, 0)] for s, i in zip(scores, index, strict=True)]
