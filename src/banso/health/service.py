"""Scorecards with versions, and `refresh`: score every account as of a date and keep history.

Snapshots are immutable history: refreshing a date replaces that date's snapshots (and the band
changes that depend on them) in the caller's transaction and never touches another date.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import numpy as np
import pyarrow as pa
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from banso.audit.service import Actor, record
from banso.contracts.service import mrr_by_account
from banso.db import utcnow
from banso.errors import InvalidInput, NotFound
from banso.health.definitions import ScorecardSpec, parse_spec
from banso.health.inputs import Inputs, metrics_from_table, scored_accounts
from banso.health.models import (
    HealthBandChange,
    HealthRating,
    HealthSnapshot,
    Scorecard,
    ScorecardVersion,
)
from banso.health.scoring import Scores, score

_CHUNK = 10_000


# --- scorecards and versions -------------------------------------------------------------


def scorecards(session: Session) -> list[Scorecard]:
    """Every scorecard, the primary one first."""
    return list(
        session.scalars(
            select(Scorecard).order_by(
                Scorecard.is_primary.desc(), Scorecard.position, Scorecard.id
            )
        )
    )


def get_scorecard(session: Session, key: str) -> Scorecard:
    found = session.scalar(select(Scorecard).where(Scorecard.key == key))
    if found is None:
        raise NotFound("scorecard", key)
    return found


def spec_of(session: Session, card: Scorecard, number: int | None = None) -> ScorecardSpec:
    """The rules of ``card`` in version ``number`` (default: the version in force)."""
    wanted = number if number is not None else card.current_version
    row = session.scalar(
        select(ScorecardVersion).where(
            ScorecardVersion.scorecard_id == card.id, ScorecardVersion.number == wanted
        )
    )
    if row is None:
        raise NotFound(f"version of scorecard {card.key}", wanted)
    return parse_spec(row.spec)


def versions(session: Session, card: Scorecard) -> list[ScorecardVersion]:
    return list(
        session.scalars(
            select(ScorecardVersion)
            .where(ScorecardVersion.scorecard_id == card.id)
            .order_by(ScorecardVersion.number.desc())
        )
    )


def save_scorecard(
    session: Session, actor: Actor, spec: ScorecardSpec, note: str = ""
) -> tuple[Scorecard, bool]:
    """Create the scorecard or add a version when its rules changed; (card, changed)."""
    _check_references(session, spec)
    card = session.scalar(select(Scorecard).where(Scorecard.key == spec.key))
    data = spec.model_dump(mode="json")
    if card is None:
        position = session.scalar(select(func.coalesce(func.max(Scorecard.position), -1))) or 0
        card = Scorecard(key=spec.key, name=spec.name, current_version=1, position=position + 1)
        session.add(card)
        session.flush()
        number = 1
        record(session, actor, "create", "scorecard", card.id, after=data)
    else:
        current = spec_of(session, card)
        if current == spec:
            return card, False
        number = card.current_version + 1
        card.name, card.current_version = spec.name, number
        record(
            session,
            actor,
            "update",
            "scorecard",
            card.id,
            before=current.model_dump(mode="json") | {"version": number - 1},
            after=data | {"version": number},
        )
    session.add(
        ScorecardVersion(
            scorecard_id=card.id, number=number, spec=data, note=note, created_by=actor.label
        )
    )
    _set_primary(session, card, spec.primary)
    session.flush()
    return card, True


def _set_primary(session: Session, card: Scorecard, primary: bool) -> None:
    if primary:
        session.execute(
            update(Scorecard).where(Scorecard.id != card.id, Scorecard.is_primary.is_(True)),
            {"is_primary": False},
            execution_options={"synchronize_session": "fetch"},
        )
    card.is_primary = primary or not session.scalar(
        select(func.count()).where(Scorecard.is_primary.is_(True), Scorecard.id != card.id)
    )


def _check_references(session: Session, spec: ScorecardSpec) -> None:
    from banso.metrics.service import definitions

    known = {d.key for d in definitions(session)}
    for i, m in enumerate(spec.measures):
        if m.metric is not None and m.metric not in known:
            raise InvalidInput.one(
                f"measures.{i}.metric",
                f"there is no metric {m.metric!r} (see `banso metrics list`)",
            )
    if spec.applies_to.segment is not None:
        from banso.segments.models import Segment

        if (
            session.scalar(select(Segment.id).where(Segment.name == spec.applies_to.segment))
            is None
        ):
            raise InvalidInput.one(
                "applies_to.segment", f"there is no segment named {spec.applies_to.segment!r}"
            )


def primary_scorecard(session: Session) -> Scorecard | None:
    return session.scalar(
        select(Scorecard).order_by(Scorecard.is_primary.desc(), Scorecard.position).limit(1)
    )


# --- refresh ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    scorecard: str
    as_of: date
    accounts: int
    scored: int
    band_changes: int
    seconds: float


def compute(
    session: Session,
    spec: ScorecardSpec,
    as_of: date,
    metrics: pa.Table | None = None,
    mrr: dict[int, int] | None = None,
) -> Scores:
    """Score every account the scorecard applies to, as of ``as_of`` (nothing is stored).

    ``metrics`` (account_id, metric_key, value) are that date's metric values when the caller
    just computed them; otherwise the stored snapshots are read."""
    active = mrr if mrr is not None else mrr_by_account(session, as_of)
    ids = scored_accounts(session, spec, as_of, active)
    given = {}
    if metrics is not None:
        given = metrics_from_table(ids, metrics, [m.metric for m in spec.measures if m.metric])
    inputs = Inputs(session, ids, as_of, active, given)
    return score(spec, ids, {m.key: inputs.values(m) for m in spec.measures})


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 6)


def snapshot_rows(card: Scorecard, as_of: date, scores: Scores) -> list[dict[str, Any]]:
    contributions = scores.contributions()
    now = utcnow()
    rows = []
    for i, account_id in enumerate(scores.account_ids):
        measures = {
            key: {
                "raw": _number(scores.raw[i, j]),
                "points": _number(scores.points[i, j]),
                "weight": round(float(scores.shares[i, j]), 6),
                "contribution": round(float(contributions[i, j]), 6),
            }
            for j, key in enumerate(scores.keys)
        }
        rows.append(
            {
                "scorecard_id": card.id,
                "scorecard_version": card.current_version,
                "account_id": account_id,
                "as_of": as_of,
                "score": _number(scores.score[i]),
                "band": scores.bands[i],
                "measures": measures,
                "computed_at": now,
            }
        )
    return rows


def refresh_scorecard(
    session: Session,
    card: Scorecard,
    as_of: date,
    metrics: pa.Table | None = None,
    mrr: dict[int, int] | None = None,
) -> ScoreResult:
    """Replace ``card``'s snapshots of ``as_of`` and the band changes they imply."""
    started = time.perf_counter()
    spec = spec_of(session, card)
    scores = compute(session, spec, as_of, metrics, mrr)
    session.execute(
        delete(HealthSnapshot).where(
            HealthSnapshot.scorecard_id == card.id, HealthSnapshot.as_of == as_of
        )
    )
    rows = snapshot_rows(card, as_of, scores)
    table = cast(Table, HealthSnapshot.__table__)
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(table), rows[start : start + _CHUNK])
    changes = record_band_changes(session, card, as_of)
    following = session.scalar(
        select(func.min(HealthSnapshot.as_of)).where(
            HealthSnapshot.scorecard_id == card.id, HealthSnapshot.as_of > as_of
        )
    )
    if following is not None:  # its changes were measured against what this date held
        record_band_changes(session, card, following)
    scored = int((~np.isnan(scores.score)).sum())
    return ScoreResult(
        card.key, as_of, len(scores.account_ids), scored, changes, time.perf_counter() - started
    )


def record_band_changes(session: Session, card: Scorecard, as_of: date) -> int:
    """Band changes on ``as_of`` against the previous scored date, replacing any recorded."""
    session.execute(
        delete(HealthBandChange).where(
            HealthBandChange.scorecard_id == card.id, HealthBandChange.as_of == as_of
        )
    )
    previous = session.scalar(
        select(func.max(HealthSnapshot.as_of)).where(
            HealthSnapshot.scorecard_id == card.id, HealthSnapshot.as_of < as_of
        )
    )
    if previous is None:
        return 0
    before = _bands(session, card.id, previous)
    now = _bands(session, card.id, as_of)
    rows = [
        {
            "scorecard_id": card.id,
            "account_id": account_id,
            "as_of": as_of,
            "previous_as_of": previous,
            "from_band": before[account_id][0],
            "to_band": band,
            "from_score": before[account_id][1],
            "to_score": value,
        }
        for account_id, (band, value) in now.items()
        if account_id in before and before[account_id][0] != band
    ]
    if rows:
        session.execute(insert(cast(Table, HealthBandChange.__table__)), rows)
    return len(rows)


def _bands(
    session: Session, card_id: int, as_of: date
) -> dict[int, tuple[str | None, float | None]]:
    rows = session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.band, HealthSnapshot.score).where(
            HealthSnapshot.scorecard_id == card_id, HealthSnapshot.as_of == as_of
        )
    ).all()
    return {a: (b, s) for a, b, s in rows}


def refresh(session: Session, as_of: date, metrics: pa.Table | None = None) -> list[ScoreResult]:
    """Score every scorecard as of ``as_of``; the caller commits. ``metrics``: that date's
    metric values, when just computed (`banso refresh` hands them on)."""
    cards = scorecards(session)
    mrr = mrr_by_account(session, as_of) if cards else None
    return [refresh_scorecard(session, card, as_of, metrics, mrr) for card in cards]


def scored_dates(session: Session, card: Scorecard) -> list[date]:
    return list(
        session.scalars(
            select(HealthSnapshot.as_of)
            .where(HealthSnapshot.scorecard_id == card.id)
            .distinct()
            .order_by(HealthSnapshot.as_of)
        )
    )


# --- ratings ------------------------------------------------------------------------------

MAX_COMMENT = 2000


def add_rating(
    session: Session,
    actor: Actor,
    account_id: int,
    measure_key: str,
    value: float,
    comment: str,
    today: date,
    expires_on: date | None = None,
) -> HealthRating:
    """Record a CSM's 0-100 rating; it counts until ``expires_on`` (default: the measure's days)."""
    from banso.accounts.models import Account

    if session.get(Account, account_id) is None:
        raise NotFound("account", account_id)
    if not 0 <= value <= 100 or math.isnan(value):
        raise InvalidInput.one("value", "a rating is a number from 0 to 100")
    if len(comment) > MAX_COMMENT:
        raise InvalidInput.one("comment", f"at most {MAX_COMMENT} characters")
    valid_days = _rating_days(session, measure_key)
    until = expires_on or today + timedelta(days=valid_days)
    if until < today:
        raise InvalidInput.one("expires_on", "must not be before today")
    rating = HealthRating(
        account_id=account_id,
        measure_key=measure_key,
        value=float(value),
        comment=comment.strip(),
        rated_on=today,
        expires_on=until,
        rated_by=actor.label,
    )
    session.add(rating)
    session.flush()
    record(
        session,
        actor,
        "create",
        "health_rating",
        rating.id,
        after={
            "account_id": account_id,
            "measure": measure_key,
            "value": value,
            "comment": rating.comment,
            "expires_on": until.isoformat(),
        },
    )
    return rating


def _rating_days(session: Session, measure_key: str) -> int:
    """The validity of ``measure_key``'s ratings; refused when no scorecard rates it."""
    for card in scorecards(session):
        for m in spec_of(session, card).measures:
            if m.key == measure_key and m.rating is not None:
                return m.rating.valid_days
    raise InvalidInput.one("measure", f"no scorecard has a rating measure {measure_key!r}")


# --- reading ------------------------------------------------------------------------------


def account_history(
    session: Session, card: Scorecard, account_id: int, limit: int = 120
) -> list[HealthSnapshot]:
    """The account's snapshots on ``card``, oldest first (the latest ``limit``)."""
    rows = session.scalars(
        select(HealthSnapshot)
        .where(HealthSnapshot.scorecard_id == card.id, HealthSnapshot.account_id == account_id)
        .order_by(HealthSnapshot.as_of.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def comparison_snapshot(history: list[HealthSnapshot], days: int = 28) -> HealthSnapshot | None:
    """The snapshot about a month before the latest (the newest at least ``days`` older)."""
    if not history:
        return None
    latest = history[-1].as_of
    older = [h for h in history if (latest - h.as_of).days >= days]
    return older[-1] if older else (history[0] if len(history) > 1 else None)
