"""Scorecards as the web pages show and change them: the list, YAML edits, versions compared,
suggested weights applied. Every change goes through service.save_scorecard (versioned, audited).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import Conflict, FieldError, InvalidInput
from banso.health.definitions import ScorecardSpec, load_yaml, parse_spec
from banso.health.models import HealthSnapshot, Scorecard
from banso.health.service import get_scorecard, save_scorecard, scorecards, spec_of

MAX_NOTE = 500
MAX_YAML = 200_000
_ONE = "scorecards.0."


@dataclass(frozen=True)
class ScorecardRow:
    card: Scorecard
    spec: ScorecardSpec
    first_scored: date | None
    last_scored: date | None


def scorecard_rows(session: Session) -> list[ScorecardRow]:
    """Every scorecard (primary first) with its rules in force and its scored date range."""
    ranges = {
        card_id: (first, last)
        for card_id, first, last in session.execute(
            select(
                HealthSnapshot.scorecard_id,
                func.min(HealthSnapshot.as_of),
                func.max(HealthSnapshot.as_of),
            ).group_by(HealthSnapshot.scorecard_id)
        )
    }
    return [
        ScorecardRow(card, spec_of(session, card), *ranges.get(card.id, (None, None)))
        for card in scorecards(session)
    ]


def scored_range(session: Session, card: Scorecard) -> tuple[date | None, date | None]:
    first, last = session.execute(
        select(func.min(HealthSnapshot.as_of), func.max(HealthSnapshot.as_of)).where(
            HealthSnapshot.scorecard_id == card.id
        )
    ).one()
    return first, last


def _one_spec(text: str) -> ScorecardSpec:
    """The single scorecard in ``text``; errors name their place without the list around it."""
    if len(text) > MAX_YAML:
        raise InvalidInput.one("yaml", f"at most {MAX_YAML:,} characters")
    if not text.strip():
        raise InvalidInput.one("yaml", "empty: paste or write a scorecard in YAML")
    try:
        specs = load_yaml(text, "yaml")
    except InvalidInput as exc:
        raise InvalidInput(
            [FieldError(e.field.removeprefix(_ONE), e.message) for e in exc.errors]
        ) from None
    if len(specs) != 1:
        raise InvalidInput.one("yaml", "give exactly one scorecard here")
    return specs[0]


def _checked_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput.one("note", f"at most {MAX_NOTE} characters")
    return note


def create_from_yaml(session: Session, actor: Actor, text: str, note: str) -> Scorecard:
    """A new scorecard from YAML; refused when its key is taken (edit that one instead)."""
    note = _checked_note(note)
    spec = _one_spec(text)
    if session.scalar(select(Scorecard.id).where(Scorecard.key == spec.key)) is not None:
        raise InvalidInput.one("key", f"a scorecard with the key {spec.key!r} exists already")
    card, _changed = save_scorecard(session, actor, spec, note)
    return card


def update_from_yaml(
    session: Session, actor: Actor, key: str, text: str, note: str
) -> tuple[Scorecard, bool]:
    """A new version of scorecard ``key`` from YAML; (card, changed)."""
    card = get_scorecard(session, key)
    note = _checked_note(note)
    spec = _one_spec(text)
    if spec.key != card.key:
        raise InvalidInput.one(
            "key", f"this is scorecard {card.key!r}; keep its key (make a new scorecard instead)"
        )
    return save_scorecard(session, actor, spec, note)


@dataclass(frozen=True)
class WeightLine:
    key: str
    label: str
    weights: list[float | None]  # one per compared version; None: not a measure there
    shares: list[float | None]  # the weight as a share (0-1) of the version's total


def _shares(spec: ScorecardSpec) -> dict[str, float]:
    total = sum(m.weight for m in spec.measures)
    return {m.key: (m.weight / total if total else 0.0) for m in spec.measures}


def compare_weights(specs: list[ScorecardSpec]) -> list[WeightLine]:
    """Each measure's weight in each spec, side by side (measures of any of them, in order)."""
    order: dict[str, str] = {}
    for spec in specs:
        for m in spec.measures:
            order.setdefault(m.key, m.label)
    weights = [{m.key: m.weight for m in s.measures} for s in specs]
    shares = [_shares(s) for s in specs]
    return [
        WeightLine(
            key,
            label,
            [w.get(key) for w in weights],
            [s.get(key) for s in shares],
        )
        for key, label in order.items()
    ]


def parse_weights(text: str, spec: ScorecardSpec) -> dict[str, float]:
    """Weights posted as JSON ``{measure key: weight}``, checked against ``spec``'s measures."""
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidInput.one("weights", "not valid JSON") from None
    if not isinstance(data, dict) or not data:
        raise InvalidInput.one("weights", "expected {measure key: weight}")
    known = {m.key for m in spec.measures}
    weights = {}
    for key, value in data.items():
        if key not in known:
            raise InvalidInput.one("weights", f"the scorecard has no measure {key!r}")
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise InvalidInput.one(f"weights.{key}", "not a number")
        weights[key] = float(value)
    return weights


def apply_weights(
    session: Session, actor: Actor, key: str, version: int, weights: dict[str, float], note: str
) -> tuple[Scorecard, bool]:
    """Save ``weights`` as a new version of the scorecard read at ``version``; (card, changed).

    Raises Conflict when the scorecard changed since (the weights were fitted on other rules)."""
    card = get_scorecard(session, key)
    if card.current_version != version:
        raise Conflict(
            f"scorecard {key} is at version {card.current_version} now, not {version}",
            {"version": card.current_version},
        )
    note = _checked_note(note)
    spec = spec_of(session, card)
    # with_weights copies without checking: validate again (a weight below 0, none above 0).
    checked = parse_spec(spec.with_weights(weights).model_dump(mode="json"))
    return save_scorecard(session, actor, checked, note)
