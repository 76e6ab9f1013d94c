"""What the customer page shows about one account's health: per scorecard the latest score, its
band and trend, the measures that moved it most since about a month ago, and every measure's part.

Read-only and a few queries per scorecard; the words are the template's (health/_account_health).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.auth.models import User
from banso.errors import NotFound
from banso.health.definitions import Band, Measure, ScorecardSpec
from banso.health.models import HealthRating, HealthSnapshot, Scorecard
from banso.health.service import account_history, comparison_snapshot, scorecards, spec_of

# A score that moved by at most this many points is "flat" (on the page and in the queues).
FLAT_POINTS = 3.0
# Drivers smaller than this (in points of the score) are not worth a sentence.
_NOTICEABLE = 0.5

Trend = Literal["up", "down", "flat"]


@dataclass(frozen=True)
class MeasureLine:
    """One measure's part in a snapshot: ``share`` is 0-1 of the score, 0 when it had no value."""

    key: str
    label: str
    raw: float | None
    points: float | None
    share: float
    contribution: float

    @property
    def has_value(self) -> bool:
        return self.raw is not None


@dataclass(frozen=True)
class CategoryLines:
    name: str
    measures: list[MeasureLine]


@dataclass(frozen=True)
class Driver:
    """A measure whose contribution to the score changed between two snapshots.

    ``points`` is the change of its contribution; ``percent`` the change of its raw value
    (None when the earlier value was 0 or either value is missing)."""

    key: str
    label: str
    before: float | None
    after: float | None
    percent: float | None
    points: float


@dataclass(frozen=True)
class CardHealth:
    """One scorecard's view of one account (``latest`` None: never scored)."""

    card: Scorecard
    spec: ScorecardSpec
    latest: HealthSnapshot | None = None
    comparison: HealthSnapshot | None = None
    history: list[tuple[date, float]] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)
    categories: list[CategoryLines] = field(default_factory=list)
    ratings: dict[str, HealthRating] = field(default_factory=dict)
    raters: dict[str, str] = field(default_factory=dict)  # rated_by → the person's name

    @property
    def band(self) -> Band | None:
        return self.spec.band(self.latest.band) if self.latest is not None else None

    @property
    def change(self) -> float | None:
        if self.latest is None or self.comparison is None:
            return None
        return score_change(self.latest.score, self.comparison.score)

    @property
    def trend(self) -> Trend | None:
        return trend_of(self.change)

    @property
    def rating_measures(self) -> list[Measure]:
        return [m for m in self.spec.measures if m.rating is not None]

    @property
    def has_missing(self) -> bool:
        return any(not m.has_value for c in self.categories for m in c.measures)


def score_change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def trend_of(change: float | None) -> Trend | None:
    """Up or down when the score moved by more than FLAT_POINTS, else flat.

    Judged in whole points, as the change is shown: "-3 points" is never an arrow down."""
    if change is None:
        return None
    if round(change) > FLAT_POINTS:
        return "up"
    if round(change) < -FLAT_POINTS:
        return "down"
    return "flat"


def _part(snapshot: HealthSnapshot | None, key: str) -> dict[str, Any]:
    if snapshot is None:
        return {}
    part = (snapshot.measures or {}).get(key)
    return part if isinstance(part, dict) else {}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def measure_lines(spec: ScorecardSpec, snapshot: HealthSnapshot) -> list[CategoryLines]:
    """Every measure of ``spec`` as ``snapshot`` scored it, grouped by category."""
    grouped = []
    for category in spec.categories:
        lines = []
        for m in category.measures:
            part = _part(snapshot, m.key)
            lines.append(
                MeasureLine(
                    key=m.key,
                    label=m.label,
                    raw=_number(part.get("raw")),
                    points=_number(part.get("points")),
                    share=float(part.get("weight") or 0.0),
                    contribution=float(part.get("contribution") or 0.0),
                )
            )
        grouped.append(CategoryLines(category.name, lines))
    return grouped


def drivers(
    spec: ScorecardSpec,
    latest: HealthSnapshot,
    comparison: HealthSnapshot | None,
    count: int = 3,
) -> list[Driver]:
    """The ``count`` measures whose contribution changed most since ``comparison``."""
    if comparison is None:
        return []
    found = []
    for m in spec.measures:
        now, before = _part(latest, m.key), _part(comparison, m.key)
        delta = float(now.get("contribution") or 0.0) - float(before.get("contribution") or 0.0)
        if abs(delta) < _NOTICEABLE:
            continue
        after_raw, before_raw = _number(now.get("raw")), _number(before.get("raw"))
        percent = None
        if after_raw is not None and before_raw is not None and before_raw != 0:
            percent = (after_raw - before_raw) / abs(before_raw) * 100.0
        found.append(Driver(m.key, m.label, before_raw, after_raw, percent, delta))
    found.sort(key=lambda d: (-abs(d.points), d.key))
    return found[:count]


def current_ratings(session: Session, account_id: int, today: date) -> dict[str, HealthRating]:
    """The newest rating of each rating measure that still counts on ``today``."""
    rows = session.scalars(
        select(HealthRating)
        .where(
            HealthRating.account_id == account_id,
            HealthRating.rated_on <= today,
            HealthRating.expires_on >= today,
        )
        .order_by(HealthRating.id)
    )
    return {r.measure_key: r for r in rows}


def rater_names(session: Session, ratings: dict[str, HealthRating]) -> dict[str, str]:
    """The names of the people behind ratings' audit labels (``email via web``)."""
    emails = {r.rated_by.split(" via ")[0]: r.rated_by for r in ratings.values()}
    if not emails:
        return {}
    names = dict(session.execute(select(User.email, User.name).where(User.email.in_(emails))).all())
    return {label: names.get(email, email) for email, label in emails.items()}


def _spec_for(session: Session, card: Scorecard, snapshot: HealthSnapshot | None) -> ScorecardSpec:
    """The rules the snapshot was scored with (its labels and categories), else those in force."""
    if snapshot is not None:
        try:
            return spec_of(session, card, snapshot.scorecard_version)
        except NotFound:
            pass
    return spec_of(session, card)


def card_health(
    session: Session,
    card: Scorecard,
    account_id: int,
    ratings: dict[str, HealthRating] | None = None,
    raters: dict[str, str] | None = None,
) -> CardHealth:
    history = account_history(session, card, account_id)
    latest = history[-1] if history else None
    spec = _spec_for(session, card, latest)
    if latest is None:
        return CardHealth(card, spec, ratings=ratings or {}, raters=raters or {})
    comparison = comparison_snapshot(history)
    return CardHealth(
        card,
        spec,
        latest=latest,
        comparison=comparison,
        history=[(h.as_of, h.score) for h in history if h.score is not None],
        drivers=drivers(spec, latest, comparison),
        categories=measure_lines(spec, latest),
        ratings=ratings or {},
        raters=raters or {},
    )


def account_health(session: Session, account_id: int, today: date) -> list[CardHealth]:
    """The account on every scorecard, the primary one first."""
    ratings = current_ratings(session, account_id, today)
    raters = rater_names(session, ratings)
    return [card_health(session, card, account_id, ratings, raters) for card in scorecards(session)]
