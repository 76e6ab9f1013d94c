"""A backtest as the web page runs it: the form's values checked, the report, suggested weights,
and, when there is too little history to judge, why (in a word the page turns into a sentence).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from banso.errors import FieldError, InvalidInput, NotFound
from banso.health.backtest import (
    MAX_HORIZON_DAYS,
    OUTCOMES,
    History,
    Report,
    Suggestion,
    load_history,
    report,
    suggest_weights,
)
from banso.health.definitions import ScorecardSpec
from banso.health.models import Scorecard
from banso.health.service import get_scorecard, primary_scorecard, spec_of

DEFAULT_HORIZON = 90
DEFAULT_OUTCOME = "churn"

Shortage = Literal["no_snapshots", "one_date", "no_outcomes", "all_outcomes"]


@dataclass(frozen=True)
class BacktestForm:
    scorecard: str
    start: date
    end: date
    horizon: int
    outcome: str


def year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def default_values(session: Session, today: date) -> dict[str, str]:
    card = primary_scorecard(session)
    return {
        "scorecard": card.key if card else "",
        "from": year_before(today).isoformat(),
        "to": today.isoformat(),
        "horizon": str(DEFAULT_HORIZON),
        "outcome": DEFAULT_OUTCOME,
    }


def _date(values: Mapping[str, str], name: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(values[name].strip())
    except ValueError:
        errors.append(FieldError(name, "a date as YYYY-MM-DD"))
        return None


def parse_form(session: Session, values: Mapping[str, str]) -> BacktestForm:
    """The form's values checked; InvalidInput names every field that is wrong."""
    errors: list[FieldError] = []
    key = values["scorecard"].strip()
    if not key or not _exists(session, key):
        errors.append(FieldError("scorecard", "choose a scorecard"))
    start, end = _date(values, "from", errors), _date(values, "to", errors)
    if start and end and end < start:
        errors.append(FieldError("to", "must not be before the start"))
    try:
        horizon = int(values["horizon"].strip())
    except ValueError:
        horizon = 0
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        errors.append(FieldError("horizon", f"a whole number of days from 1 to {MAX_HORIZON_DAYS}"))
    outcome = values["outcome"].strip()
    if outcome not in OUTCOMES:
        errors.append(FieldError("outcome", f"one of {', '.join(OUTCOMES)}"))
    if errors or start is None or end is None:
        raise InvalidInput(errors)
    return BacktestForm(key, start, end, horizon, outcome)


def _exists(session: Session, key: str) -> bool:
    try:
        get_scorecard(session, key)
    except NotFound:
        return False
    return True


@dataclass(frozen=True)
class Backtest:
    card: Scorecard
    spec: ScorecardSpec
    form: BacktestForm
    last_complete: date
    history: History
    report: Report
    suggestion: Suggestion | None
    shortage: Shortage | None
    suggestion_problem: str | None


def _shortage(history: History, result: Report) -> Shortage | None:
    if result.snapshots == 0:
        return "no_snapshots"
    if result.positives == 0:
        return "no_outcomes"
    if result.positives == result.snapshots:
        return "all_outcomes"
    if len(set(history.dates)) < 2:
        return "one_date"
    return None


def run(session: Session, form: BacktestForm, today: date) -> Backtest:
    """The report of the scorecard in force, and weights fitted when there is enough history."""
    card = get_scorecard(session, form.scorecard)
    spec = spec_of(session, card)
    history = load_history(
        session, card, spec, form.start, form.end, form.horizon, form.outcome, today
    )
    result = report(history, spec, form.outcome, form.horizon)
    shortage = _shortage(history, result)
    suggestion, problem = None, None
    if shortage is None:
        try:
            suggestion = suggest_weights(history, spec, form.outcome, form.horizon)
        except InvalidInput as exc:
            problem = exc.errors[0].message if exc.errors else str(exc)
    return Backtest(
        card,
        spec,
        form,
        today - timedelta(days=form.horizon),
        history,
        result,
        suggestion,
        shortage,
        problem,
    )
