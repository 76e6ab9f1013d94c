"""Work queues on the primary scorecard: who needs a churn follow-up, who is ripe for expansion.

Set-based: the latest scored date's scores, the comparison date's, the licence use and the MRR
come in one query each; the selection and sorting run in Python over those rows, and names,
owners and renewal dates are read for the page being shown only. Changes are judged in whole
points, as the pages show them.

- Churn follow-up: the latest score is in the lowest band, or it fell by FELL_BY points or more
  against the comparison date (the newest scored date at least four weeks earlier).
- Expansion: the latest score is in the highest band and rising or flat (it did not fall by
  more than summary.FLAT_POINTS), or the licence activation measure is at least LICENCE_FULL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.auth.models import User
from banso.contracts.models import Contract
from banso.contracts.service import mrr_by_account
from banso.health.definitions import ScorecardSpec
from banso.health.models import HealthSnapshot, Scorecard
from banso.health.service import primary_scorecard, scored_dates, spec_of
from banso.health.summary import FLAT_POINTS

FELL_BY = 10.0
COMPARE_DAYS = 28
LICENCE_MEASURE = "licence_activation"
LICENCE_FULL = 0.9
PAGE_SIZE = 50
SORTS = ("mrr", "score", "change")
# Contracts that still come up for renewal (a churned one does not).
_RENEWING = ("active", "trial", "paused")

Reason = Literal["lowest_band", "fell", "highest_band", "licences"]


@dataclass(frozen=True)
class Candidate:
    """An account in a queue: its latest score, band and change, MRR and why it is there."""

    account_id: int
    score: float
    band: str | None
    change: float | None
    mrr: int
    licence_activation: float | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Queues:
    card: Scorecard
    spec: ScorecardSpec
    as_of: date
    compared_with: date | None
    churn: list[Candidate]
    expansion: list[Candidate]


@dataclass(frozen=True)
class QueueRow:
    candidate: Candidate
    name: str
    owner: str | None
    renewal: date | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


def comparison_date(dates: Sequence[date], days: int = COMPARE_DAYS) -> date | None:
    """The newest of ``dates`` at least ``days`` before the latest (else the earliest other)."""
    if len(dates) < 2:
        return None
    latest = max(dates)
    older = [d for d in dates if (latest - d).days >= days]
    return max(older) if older else min(dates)


def _scores(session: Session, card: Scorecard, as_of: date) -> dict[int, tuple[float, str | None]]:
    """Each account's score and band on ``as_of`` (accounts without a score left out)."""
    rows = session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.score, HealthSnapshot.band).where(
            HealthSnapshot.scorecard_id == card.id,
            HealthSnapshot.as_of == as_of,
            HealthSnapshot.score.is_not(None),
        )
    ).all()
    return {a: (float(s), b) for a, s, b in rows if s is not None}


def _licences(
    session: Session, card: Scorecard, as_of: date, spec: ScorecardSpec
) -> dict[int, float]:
    """The licence activation measure's raw value per account, when the scorecard has one."""
    if not any(m.key == LICENCE_MEASURE for m in spec.measures):
        return {}
    found = {}
    for account_id, measures in session.execute(
        select(HealthSnapshot.account_id, HealthSnapshot.measures).where(
            HealthSnapshot.scorecard_id == card.id, HealthSnapshot.as_of == as_of
        )
    ):
        part = measures.get(LICENCE_MEASURE) if isinstance(measures, dict) else None
        raw = part.get("raw") if isinstance(part, dict) else None
        if isinstance(raw, int | float) and not math.isnan(raw):
            found[account_id] = float(raw)
    return found


def work_queues(session: Session, card: Scorecard | None = None) -> Queues | None:
    """Both queues on ``card`` (default: the primary scorecard); None when nothing is scored."""
    card = card or primary_scorecard(session)
    if card is None:
        return None
    dates = scored_dates(session, card)
    if not dates:
        return None
    spec = spec_of(session, card)
    as_of, compared_with = max(dates), comparison_date(dates)
    latest = _scores(session, card, as_of)
    before = _scores(session, card, compared_with) if compared_with is not None else {}
    licences = _licences(session, card, as_of, spec)
    mrr = mrr_by_account(session, as_of)
    lowest, highest = spec.bands[0].key, spec.bands[-1].key
    churn: list[Candidate] = []
    expansion: list[Candidate] = []
    for account_id, (score, band) in latest.items():
        change = score - before[account_id][0] if account_id in before else None
        moved = round(change) if change is not None else None  # in whole points, as shown
        licence = licences.get(account_id)
        churn_reasons: list[Reason] = []
        if band == lowest:
            churn_reasons.append("lowest_band")
        if moved is not None and moved <= -FELL_BY:
            churn_reasons.append("fell")
        grow_reasons: list[Reason] = []
        if band == highest and (moved is None or moved >= -FLAT_POINTS):
            grow_reasons.append("highest_band")
        if licence is not None and licence >= LICENCE_FULL:
            grow_reasons.append("licences")
        for reasons, queue in ((churn_reasons, churn), (grow_reasons, expansion)):
            if reasons:
                queue.append(
                    Candidate(
                        account_id,
                        score,
                        band,
                        change,
                        mrr.get(account_id, 0),
                        licence,
                        tuple(reasons),
                    )
                )
    return Queues(card, spec, as_of, compared_with, churn, expansion)


def parse_sort(text: str | None) -> tuple[str, bool]:
    """``-mrr`` → ("mrr", descending); unknown keys fall back to MRR at stake, descending."""
    raw = (text or "").strip()
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in SORTS:
        return "mrr", True
    return key, descending


def sort_candidates(candidates: list[Candidate], sort: str | None) -> list[Candidate]:
    """Sorted by ``sort`` (``mrr``, ``score``, ``change``; ``-`` for descending); accounts
    without a change come last either way, ties by account id."""
    key, descending = parse_sort(sort)
    sign = -1.0 if descending else 1.0

    def order(c: Candidate) -> tuple[int, float, int]:
        value = {"mrr": float(c.mrr), "score": c.score, "change": c.change}[key]
        if value is None:
            return (1, 0.0, c.account_id)
        return (0, sign * value, c.account_id)

    return sorted(candidates, key=order)


def _names_and_owners(session: Session, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    rows = session.execute(
        select(Account.id, Account.name, User.name)
        .outerjoin(User, User.id == Account.owner_id)
        .where(Account.id.in_(ids))
    ).all()
    return {a: (name, owner) for a, name, owner in rows}


def _renewals(session: Session, ids: list[int], today: date) -> dict[int, date]:
    """Each account's next contract end on or after ``today`` among contracts still running."""
    rows = session.execute(
        select(Contract.account_id, func.min(Contract.end_date))
        .where(
            Contract.account_id.in_(ids),
            Contract.status.in_(_RENEWING),
            Contract.end_date >= today,
        )
        .group_by(Contract.account_id)
    ).all()
    return {a: d for a, d in rows if d is not None}


def page_of(
    session: Session,
    candidates: list[Candidate],
    sort: str | None,
    page: int,
    today: date,
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of a queue, sorted, with the accounts' names, owners and renewal dates."""
    ordered = sort_candidates(candidates, sort)
    pages = max(1, math.ceil(len(ordered) / size))
    page = min(max(page, 1), pages)
    chosen = ordered[(page - 1) * size : page * size]
    ids = [c.account_id for c in chosen]
    names = _names_and_owners(session, ids) if ids else {}
    renewals = _renewals(session, ids, today) if ids else {}
    rows = [
        QueueRow(
            c,
            names.get(c.account_id, (f"#{c.account_id}", None))[0],
            names.get(c.account_id, ("", None))[1],
            renewals.get(c.account_id),
        )
        for c in chosen
    ]
    return QueuePage(rows, len(ordered), page, pages)
