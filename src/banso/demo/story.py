"""What happens to each demo account over three years, planned before any row is written.

An :class:`AccountStory` depends only on ``(seed, index, today)``: every account draws from a
``random.Random`` of its own, so a later generator (usage events, timeline notes, health data)
gets exactly the same story for an account with :func:`story_for`, without re-planning the
others, and adding accounts to a demo never changes the earlier ones.

The contract of each story is simulated term by term with the rules of
``contracts.service.record_movement``: a trial earns nothing until its ``new`` conversion;
expansions raise and contractions lower MRR; a pause is a contraction to status ``paused``
undone by a ``reactivation``; a ``renewal`` at each term end sets the next term end; a
``churn`` (at a term end) sets MRR to 0; a churned contract can come back by ``reactivation``.

Kinds (``AccountStory.kind``) and the dates they carry, for data that must tell the same story:

- ``steady``: active and healthy, unchanged apart from renewals.
- ``expanding``: active, MRR raised on each of ``expansion_dates``.
- ``contracting``: active, MRR lowered on each of ``contraction_dates``.
- ``paused``: was paused during each ``pauses`` interval (start, end), active again.
- ``reactivated``: churned once, signed again on a date in ``reactivation_dates``.
- ``at_risk``: active today but declining since ``decline_start``; it will not renew at
  ``renewal_date`` (usage and health should fall from ``decline_start`` on).
- ``churned``: declined from ``decline_start`` and churned on ``churn_date``.
- ``trial``: in its free trial today (``start`` is the trial start).
- ``trial_lost``: the trial ended on ``churn_date`` without converting.

``live_from`` is the day it began to pay (after a trial), ``renewal_date`` the current term end
of an active contract.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from banso.demo import vocabulary as v

DEFAULT_TODAY = date(2026, 11, 22)
SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_WEIGHTS = (60, 30, 10)
# Chance that an account does not renew at a term end (logo churn per year of contract).
ANNUAL_CHURN = {"SMB": 0.16, "Mid-Market": 0.10, "Enterprise": 0.05}
MRR_RANGE = {
    "SMB": (12_000, 60_000),
    "Mid-Market": (60_000, 300_000),
    "Enterprise": (300_000, 1_800_000),
}
SEATS_RANGE = {"SMB": (3, 20), "Mid-Market": (20, 150), "Enterprise": (150, 1500)}
CHURN_REASONS = (
    "事業縮小のため",
    "競合サービスへ乗り換え",
    "現場で定着せず利用が減少",
    "担当者の退職で推進者不在",
    "価格見直しの結果、解約",
)


@dataclass
class Movement:
    """One contract movement as ``record_movement`` would store it (state after the change)."""

    kind: str
    on: date
    mrr_after: int
    status_after: str
    seats_after: int
    end_date: date | None = None
    reason: str | None = None


@dataclass
class AccountStory:
    index: int
    segment: str
    company_size: str
    industry: str
    start: date
    quoted_mrr: int = 0
    kind: str = "steady"
    live_from: date | None = None
    renewal_date: date | None = None
    churn_date: date | None = None
    decline_start: date | None = None
    expansion_dates: list[date] = field(default_factory=list)
    contraction_dates: list[date] = field(default_factory=list)
    pauses: list[tuple[date, date]] = field(default_factory=list)
    reactivation_dates: list[date] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)

    @property
    def final(self) -> Movement:
        return self.movements[-1]

    @property
    def status(self) -> str:
        """The contract's status today."""
        return self.final.status_after

    @property
    def first_mrr(self) -> int:
        """The MRR it first paid (or was quoted, for a trial that never converted)."""
        return next((m.mrr_after for m in self.movements if m.mrr_after), self.quoted_mrr)


def history_start(today: date) -> date:
    """The first day of the demo's history: three years of months, ``today``'s included."""
    return add_months(today.replace(day=1), -35)


def add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, min(day.day, 28))


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def round_mrr(value: float) -> int:
    """Yen MRR rounded to ¥1,000, as price lists are."""
    return max(1_000, round(value / 1_000) * 1_000)


def story_for(seed: int, index: int, today: date = DEFAULT_TODAY) -> AccountStory:
    """The story of demo account number ``index`` (0-based) for ``seed`` as of ``today``."""
    rng = random.Random(f"banso-demo:{seed}:{index}")
    segment = rng.choices(SEGMENTS, weights=SEGMENT_WEIGHTS)[0]
    story = AccountStory(
        index=index,
        segment=segment,
        company_size=rng.choice(v.SIZES_BY_SEGMENT[segment]),
        industry=rng.choice(list(v.INDUSTRIES)),
        start=_between(rng, history_start(today), today - timedelta(days=20)),
    )
    _simulate(rng, story, today)
    return story


def plan(seed: int, n_accounts: int, today: date = DEFAULT_TODAY) -> list[AccountStory]:
    """The stories of demo accounts ``0 .. n_accounts-1``; same arguments, same list."""
    return [story_for(seed, index, today) for index in range(n_accounts)]


def _simulate(rng: random.Random, story: AccountStory, today: date) -> None:
    """Play the contract term by term up to ``today``, recording each movement."""
    mrr = round_mrr(rng.uniform(*MRR_RANGE[story.segment]))
    seats = rng.randint(*SEATS_RANGE[story.segment])
    story.quoted_mrr = mrr
    day = _trial(rng, story, mrr, seats, today)
    if day is None:
        return
    grower = rng.random() < 0.25
    term_end = add_months(day, 12)
    while True:
        horizon = min(term_end, today)
        day, mrr, seats = _within_term(rng, story, day, horizon, mrr, seats, grower)
        if term_end > today:
            break
        churn_odds = ANNUAL_CHURN[story.segment] * (
            0.5 if grower else 1.6 if story.contraction_dates else 1.0
        )
        if rng.random() < churn_odds:
            story.movements.append(
                Movement("churn", term_end, 0, "churned", seats, reason=rng.choice(CHURN_REASONS))
            )
            story.churn_date = term_end
            story.decline_start = term_end - timedelta(days=rng.randint(60, 150))
            back = _between(rng, add_months(term_end, 3), min(add_months(term_end, 9), today))
            if rng.random() < 0.08 and add_months(term_end, 6) < today:
                mrr = round_mrr(mrr * rng.uniform(0.8, 1.1))
                term_end = add_months(back, 12)
                story.movements.append(
                    Movement("reactivation", back, mrr, "active", seats, term_end, "再契約")
                )
                story.reactivation_dates.append(back)
                story.churn_date = story.decline_start = None
                day = back
                continue
            story.kind = "churned"
            return
        day, term_end = term_end, add_months(term_end, 12)
        story.movements.append(Movement("renewal", day, mrr, "active", seats, term_end, "自動更新"))
    story.renewal_date = term_end
    story.kind = _active_kind(rng, story, today)


def _trial(
    rng: random.Random, story: AccountStory, mrr: int, seats: int, today: date
) -> date | None:
    """Open the contract (maybe with a free trial); the day it starts to pay, or None."""
    day = story.start
    if rng.random() >= 0.3:
        story.movements.append(
            Movement("new", day, mrr, "active", seats, add_months(day, 12), "新規契約")
        )
        story.live_from = day
        return day
    # A trial earns nothing until it converts, as contracts.service records it.
    story.movements.append(Movement("new", day, 0, "trial", seats, reason="トライアル開始"))
    day += timedelta(days=rng.choice((14, 21, 30)))
    if day > today:
        story.kind = "trial"
        return None
    if rng.random() < 0.12:
        story.movements.append(
            Movement("churn", day, 0, "churned", seats, reason="トライアル後に見送り")
        )
        story.kind, story.churn_date = "trial_lost", day
        return None
    story.movements.append(
        Movement("new", day, mrr, "active", seats, add_months(day, 12), "トライアルから本契約")
    )
    story.live_from = day
    return day


def _within_term(
    rng: random.Random,
    story: AccountStory,
    day: date,
    horizon: date,
    mrr: int,
    seats: int,
    grower: bool,
) -> tuple[date, int, int]:
    """At most one change inside a term: an expansion, a contraction or a pause."""
    room = (horizon - day).days
    if grower and rng.random() < 0.6 and room > 40:
        day = _between(rng, day + timedelta(days=20), horizon - timedelta(days=10))
        mrr = round_mrr(mrr * rng.uniform(1.2, 1.6))
        seats = int(seats * rng.uniform(1.2, 1.6)) + 1
        story.movements.append(
            Movement("expansion", day, mrr, "active", seats, reason=rng.choice(v.EXPANSION_REASONS))
        )
        story.expansion_dates.append(day)
    elif rng.random() < 0.07 and room > 40:
        day = _between(rng, day + timedelta(days=20), horizon - timedelta(days=10))
        mrr, seats = round_mrr(mrr * rng.uniform(0.6, 0.85)), max(1, int(seats * 0.75))
        story.movements.append(
            Movement(
                "contraction", day, mrr, "active", seats, reason=rng.choice(v.CONTRACTION_REASONS)
            )
        )
        story.contraction_dates.append(day)
    elif rng.random() < 0.02 and room > 120:
        paused = _between(rng, day + timedelta(days=20), horizon - timedelta(days=100))
        day = paused + timedelta(days=rng.randint(30, 90))
        story.movements.append(
            Movement("contraction", paused, 0, "paused", seats, reason="改装のため休止")
        )
        story.movements.append(
            Movement("reactivation", day, mrr, "active", seats, reason="営業再開")
        )
        story.pauses.append((paused, day))
    return day, mrr, seats


def _active_kind(rng: random.Random, story: AccountStory, today: date) -> str:
    """The kind of an account still paying today; some are already sliding towards churn."""
    assert story.renewal_date is not None
    until_renewal = (story.renewal_date - today).days
    odds = ANNUAL_CHURN[story.segment] * (1.6 if story.contraction_dates else 1.0)
    if until_renewal <= 120 and not story.expansion_dates and rng.random() < odds:
        story.decline_start = max(
            story.live_from or story.start,
            min(
                today - timedelta(days=14),
                story.renewal_date - timedelta(days=rng.randint(90, 160)),
            ),
        )
        return "at_risk"
    if story.reactivation_dates:
        return "reactivated"
    if story.pauses:
        return "paused"
    if story.expansion_dates:
        return "expanding"
    if story.contraction_dates:
        return "contracting"
    return "steady"
