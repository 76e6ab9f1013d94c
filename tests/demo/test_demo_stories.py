from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.contracts.models import Contract
from banso.demo.generator import DemoResult, demo_run, stories_by_account
from banso.demo.story import DEFAULT_TODAY, plan, story_for

from .conftest import ACCOUNTS, SEED


def test_the_same_seed_plans_the_same_stories() -> None:
    assert plan(7, 50) == plan(7, 50)
    assert plan(7, 50) != plan(8, 50)


def test_a_story_does_not_depend_on_how_many_accounts_there_are() -> None:
    assert plan(7, 80)[:30] == plan(7, 30)
    assert story_for(7, 42) == plan(7, 50)[42]


def test_the_history_covers_three_years_up_to_the_day_asked() -> None:
    stories = plan(7, 300, date(2027, 5, 1))
    starts = [s.start for s in stories]
    assert date(2024, 6, 1) <= min(starts) < date(2024, 8, 1)
    assert max(s.final.on for s in stories) <= date(2027, 5, 1)


def test_it_remembers_how_the_demo_was_made(session: Session, demo: DemoResult) -> None:
    run = demo_run(session)
    assert run is not None
    assert (run.seed, run.accounts, run.today) == (SEED, ACCOUNTS, DEFAULT_TODAY)


def test_later_generators_find_each_accounts_story(session: Session, demo: DemoResult) -> None:
    stories = stories_by_account(session)
    assert len(stories) == ACCOUNTS
    accounts = {a.id: a for a in session.scalars(select(Account))}
    status = dict(session.execute(select(Contract.account_id, Contract.status)).all())
    for account_id, story in stories.items():
        account = accounts[account_id]
        assert (account.segment, account.industry) == (story.segment, story.industry)
        assert status[account_id] == story.status
        assert (story.kind in ("churned", "trial_lost")) == (story.status == "churned")


def test_there_is_no_story_without_a_demo(session: Session) -> None:
    assert demo_run(session) is None and stories_by_account(session) == {}


def test_every_kind_of_story_carries_its_dates() -> None:
    stories = plan(42, 2000)
    kinds = {s.kind for s in stories}
    assert kinds >= {
        "steady",
        "expanding",
        "contracting",
        "paused",
        "at_risk",
        "churned",
        "trial_lost",
        "reactivated",
    }
    for s in stories:
        if s.kind == "churned":
            assert s.decline_start and s.churn_date and s.decline_start < s.churn_date
            assert s.live_from and s.live_from <= s.decline_start
        if s.kind == "at_risk":
            assert s.decline_start and s.renewal_date and s.status == "active"
            assert s.decline_start < DEFAULT_TODAY < s.renewal_date
        if s.kind == "expanding":
            assert s.expansion_dates and s.status == "active"
        if s.kind == "paused":
            assert all(start < end <= DEFAULT_TODAY for start, end in s.pauses)
        if s.status == "active":
            assert s.renewal_date and s.renewal_date > DEFAULT_TODAY
