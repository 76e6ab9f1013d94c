"""A year of product usage for the demo accounts, telling the same story as their contracts.

Each demo account's contacts (and, for larger plans, a few more colleagues) use the product:
logins and key features on weekdays, little at weekends and over the New Year holidays.
Accounts that churn or will not renew fade from ``decline_start`` on; expanding accounts grow
in the months before each expansion; paused ones go quiet while paused; trials try, and lost
trials stop. Everything is drawn with numpy in one pass over a users × days grid and written
with the store's bulk load, so two thousand accounts take seconds.

Identities are linked as the live ingestion would: every user is a ``usage_users`` row linked
to its contact (by e-mail) or to its account (by e-mail domain), every account has a
``usage_groups`` row whose group id is its ``demo`` external id (``D00001``), and the group
calls of the events name it. Ids depend only on the story, so generating the same demo again
adds no duplicate (the store de-duplicates message ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import AccountDomain, Contact
from banso.demo.generator import demo_run, external_value, stories_by_account
from banso.demo.story import AccountStory
from banso.events.identities import insert_ignore as _insert_ignore
from banso.events.models import UsageGroup, UsageMembership, UsageUser

DAYS = 365
LOGIN = "Logged In"
# The key features of the demo product: what feature adoption and key-person metrics count.
KEY_FEATURES = (
    "Report Created",
    "Dashboard Viewed",
    "Task Completed",
    "Export Downloaded",
    "Workflow Automated",
    "Comment Posted",
)
PAGES = {"Home": "/home", "Reports": "/reports", "Tasks": "/tasks", "Settings": "/settings"}
MAX_USERS = {"SMB": 4, "Mid-Market": 7, "Enterprise": 12}
SOURCE = "demo"
_JST = timedelta(hours=9)
_SATURDAY, _SUNDAY = 5, 6


@dataclass
class UsageResult:
    users: int
    groups: int
    events: int


@dataclass
class _Users:
    """The demo's product users, one entry each (parallel lists)."""

    user_ids: list[str]
    account_row: list[int]  # index into the accounts list
    contact_ids: list[int | None]
    emails: list[str]


def _ramp(days: np.ndarray, start: date, end: date, low: float, high: float) -> np.ndarray:
    """``low`` before ``start``, rising linearly to ``high`` at ``end`` and after."""
    span = max(1, (end - start).days)
    share = np.clip((days - np.datetime64(start)).astype(int) / span, 0.0, 1.0)
    return low + (high - low) * share


def intensity(story: AccountStory, days: np.ndarray) -> np.ndarray:
    """How much the account uses the product on each day (0 = not at all, 1 = healthy)."""
    level = np.ones(len(days))
    start = story.start if story.kind in ("trial", "trial_lost") else story.live_from or story.start
    level[days < np.datetime64(start)] = 0.0
    if story.kind in ("trial", "trial_lost"):
        level *= 0.6
    if story.decline_start:
        end = story.churn_date or story.renewal_date or story.decline_start + timedelta(days=180)
        level *= _ramp(days, story.decline_start, end, 1.0, 0.1)
    for expansion in story.expansion_dates:
        # Growing in the quarter before an expansion, then at the new level.
        level *= _ramp(days, expansion - timedelta(days=90), expansion, 0.7, 1.0) * 0.9 + 0.1
    for contraction in story.contraction_dates:
        level *= np.where(days >= np.datetime64(contraction), 0.7, 1.0)
    for first, last in story.pauses:
        inside = (days >= np.datetime64(first)) & (days < np.datetime64(last))
        level[inside] *= 0.05
    if story.churn_date:
        level[days >= np.datetime64(story.churn_date)] = 0.0
    if story.kind == "reactivated" and story.reactivation_dates:
        level[days >= np.datetime64(story.reactivation_dates[-1])] = np.maximum(
            level[days >= np.datetime64(story.reactivation_dates[-1])], 0.8
        )
    return level


def weekly_rhythm(days: np.ndarray) -> np.ndarray:
    """Weekdays full, weekends quiet, the New Year holidays (29 Dec – 3 Jan) almost silent."""
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 1970-01-01 was a Thursday
    rhythm = np.where(weekday == _SATURDAY, 0.12, np.where(weekday == _SUNDAY, 0.06, 1.0))
    month_day = days.astype(object)
    holiday = np.array(
        [(d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3) for d in month_day]
    )
    return np.where(holiday, 0.08, rhythm)


def _load_users(session: Session, stories: dict[int, AccountStory], accounts: list[int]) -> _Users:
    """The contacts of each demo account, plus colleagues up to the plan's size."""
    contacts: dict[int, list[tuple[int, str]]] = {a: [] for a in accounts}
    stmt = select(Contact.account_id, Contact.id, Contact.email).order_by(Contact.id)
    for account_id, known_id, email in session.execute(stmt):
        if account_id in contacts and email:
            contacts[account_id].append((known_id, email))
    domains = dict(session.execute(select(AccountDomain.account_id, AccountDomain.domain)).all())
    users = _Users([], [], [], [])
    for row, account_id in enumerate(accounts):
        story = stories[account_id]
        prefix = external_value(story.index)
        people: list[tuple[int | None, str]] = list(contacts[account_id])
        wanted = min(MAX_USERS[story.segment], max(len(people), story.final.seats_after))
        domain = domains.get(account_id, f"{prefix.lower()}.example")
        people += [(None, f"member{k}@{domain}") for k in range(wanted - len(people))]
        for k, (contact_id, email) in enumerate(people):
            users.user_ids.append(f"{prefix}-u{k + 1}")
            users.account_row.append(row)
            users.contact_ids.append(contact_id)
            users.emails.append(email)
    return users


def _link_identities(
    session: Session, stories: dict[int, AccountStory], accounts: list[int], users: _Users
) -> None:
    now = datetime.now(UTC)
    # Inserted unless there (a second run on the same demo adds nothing).
    _insert_ignore(
        session,
        UsageGroup.__table__,
        [
            {
                "group_id": external_value(stories[a].index),
                "account_id": a,
                "link_source": "external_id",
                "traits": {},
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for a in accounts
        ],
    )
    rows = []
    for user_id, row, contact_id, email in zip(
        users.user_ids, users.account_row, users.contact_ids, users.emails, strict=True
    ):
        rows.append(
            {
                "user_id": user_id,
                "email": email,
                "email_key": email.lower(),
                "contact_id": contact_id,
                "account_id": accounts[row],
                "link_source": "email" if contact_id else "domain",
                "traits": {"email": email},
                "first_seen_at": now,
                "last_seen_at": now,
            }
        )
    _insert_ignore(session, UsageUser.__table__, rows)
    _insert_ignore(
        session,
        UsageMembership.__table__,
        [
            {
                "user_id": u,
                "group_id": external_value(stories[accounts[r]].index),
                "created_at": now,
            }
            for u, r in zip(users.user_ids, users.account_row, strict=True)
        ],
    )


def _daily_levels(
    stories: dict[int, AccountStory], accounts: list[int], days: np.ndarray
) -> np.ndarray:
    """accounts × days: each account's intensity times the calendar's rhythm."""
    levels = np.vstack([intensity(stories[a], days) for a in accounts])
    return levels * weekly_rhythm(days)[None, :]


def _events_table(
    rng: np.random.Generator,
    seed: int,
    days: np.ndarray,
    levels: np.ndarray,
    users: _Users,
    groups: list[str],
) -> pa.Table:
    """Draw who is active on which day and what they do; one row per event."""
    account_row = np.asarray(users.account_row)
    # Some people live in the product, most drop in: per-user engagement, key persons higher.
    engagement = rng.beta(2.0, 3.0, size=len(account_row)) * 0.5
    engagement[np.asarray([c is not None for c in users.contact_ids])] += 0.1
    chance = np.clip(levels[account_row] * engagement[:, None], 0.0, 0.95)
    user_idx, day_idx = np.nonzero(rng.random(chance.shape) < chance)
    strength = levels[account_row[user_idx], day_idx]
    logins = 1 + rng.poisson(0.3, size=len(user_idx))
    features = rng.poisson(0.3 + 1.2 * np.minimum(strength, 1.0))
    pages = rng.poisson(0.5, size=len(user_idx))
    per_cell = logins + features + pages
    cell = np.repeat(np.arange(len(user_idx)), per_cell)
    offset = np.arange(len(cell)) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    kind = np.where(
        offset < logins[cell], 0, np.where(offset < (logins + features)[cell], 1, 2)
    )  # 0 login, 1 feature, 2 page
    # Each account adopts some of the key features; its users pick among those.
    adopted = np.asarray(2 + rng.integers(0, len(KEY_FEATURES) - 1, size=levels.shape[0]))
    account_of_event = account_row[user_idx[cell]]
    feature = (rng.random(len(cell)) * adopted[account_of_event]).astype(np.int64)
    page = rng.integers(0, len(PAGES), len(cell))
    names = np.array([LOGIN, *KEY_FEATURES, *PAGES], dtype=object)
    event_index = np.where(
        kind == 0, 0, np.where(kind == 1, 1 + feature, 1 + len(KEY_FEATURES) + page)
    )
    # Office hours in Japan: around 10:00 and 15:00 JST, rarely at night.
    hour = np.where(
        rng.random(len(cell)) < 0.5,
        rng.normal(10.5, 1.2, len(cell)),
        rng.normal(15, 1.8, len(cell)),
    )
    seconds = (np.clip(hour, 7.0, 23.5) * 3600).astype(np.int64)
    day_us = days[day_idx[cell]].astype("datetime64[us]")
    stamps = day_us + (seconds * 1_000_000).astype("timedelta64[us]") - np.timedelta64(9, "h")
    n = len(cell)
    paths = pa.array([f'{{"path":"{p}"}}' for p in PAGES.values()], pa.string())
    properties = pc.if_else(
        pa.array(kind == 2), paths.take(pa.array(page)), pa.nulls(n, pa.string())
    )
    ids = pc.binary_join_element_wise(f"demo-{seed}-", pa.array(np.arange(n)).cast(pa.string()), "")
    user_ids = pa.array(users.user_ids, pa.string()).take(pa.array(user_idx[cell]))
    timestamp = pa.array(stamps, pa.timestamp("us", tz="UTC"))
    kinds = pa.array(np.where(kind == 2, "page", "track").astype(object), pa.string())
    events = pa.array(names[event_index], pa.string())
    return pa.table(
        {
            "message_id": ids,
            "type": kinds,
            "event": events,
            "user_id": user_ids,
            "group_id": pa.array(groups, pa.string()).take(pa.array(account_of_event)),
            "timestamp": timestamp,
            "received_at": timestamp,
            "properties": properties,
            "source": pa.array([SOURCE] * n, pa.string()) if n else pa.nulls(0, pa.string()),
        }
    )


def _identity_events(seed: int, start: date, users: _Users, groups: list[str]) -> pa.Table:
    """One identify and one group call per user, on the first day of the year."""
    n = len(users.user_ids)
    moment = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    traits = [f'{{"email":"{e}"}}' for e in users.emails]
    member_of = [groups[r] for r in users.account_row]
    return pa.table(
        {
            "message_id": [f"demo-{seed}-identify-{u}" for u in users.user_ids]
            + [f"demo-{seed}-group-{u}" for u in users.user_ids],
            "type": ["identify"] * n + ["group"] * n,
            "user_id": users.user_ids * 2,
            "group_id": [None] * n + member_of,
            "timestamp": pa.array([moment] * (2 * n), pa.timestamp("us", tz="UTC")),
            "received_at": pa.array([moment] * (2 * n), pa.timestamp("us", tz="UTC")),
            "traits": traits + [None] * n,
            "source": [SOURCE] * (2 * n),
        }
    )


def generate_usage(session: Session, store: Any, *, seed: int | None = None) -> UsageResult:
    """Generate a year of usage (ending on the demo's ``today``) for every demo account."""
    run = demo_run(session)
    stories = stories_by_account(session)
    if run is None or not stories:
        return UsageResult(0, 0, 0)
    seed = run.seed if seed is None else seed
    accounts = sorted(stories)
    start = run.today - timedelta(days=DAYS - 1)
    days = np.arange(np.datetime64(start), np.datetime64(run.today) + 1, dtype="datetime64[D]")
    users = _load_users(session, stories, accounts)
    groups = [external_value(stories[a].index) for a in accounts]
    _link_identities(session, stories, accounts, users)
    rng = np.random.default_rng(seed)
    levels = _daily_levels(stories, accounts, days)
    table = pa.concat_tables(
        [
            _identity_events(seed, start, users, groups),
            _events_table(rng, seed, days, levels, users, groups),
        ],
        promote_options="default",
    )
    added = store.append_table(table)
    return UsageResult(users=len(users.user_ids), groups=len(accounts), events=added)
