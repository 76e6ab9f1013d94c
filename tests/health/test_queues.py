"""Work queues: who needs a churn follow-up and who is ripe for expansion, sorted and paged."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.health.queues import comparison_date, page_of, sort_candidates, work_queues
from tests.factories import make_account, make_contract
from tests.health.factories import make_scorecard, part, put_snapshot

BEFORE, MIDDLE, LATEST = date(2026, 10, 4), date(2026, 10, 18), date(2026, 11, 1)
TODAY = date(2026, 11, 2)


@pytest.fixture
def accounts(session: Session, actor: Actor) -> dict[str, int]:
    """Seven customers on a scorecard with licence use, scored a month apart."""
    card = make_scorecard(session, actor, licences=True)
    # name: (score before, score in the middle, latest score, licence use, MRR)
    cases = {
        "Red": (35, 32, 30, 0.5, 100_000),  # lowest band
        "Falling": (70, 60, 55, 0.5, 300_000),  # fell 15
        "Slipping": (65, 63, 60, 0.5, 400_000),  # fell 5: in neither queue
        "Rising": (80, 82, 85, 0.5, 50_000),  # highest band, rising
        "Dropping": (90, 85, 80, 0.5, 200_000),  # highest band but fell 10
        "Licensed": (60, 60, 60, 0.95, 70_000),  # licences nearly all in use
        "New": (None, None, 75, None, 20_000),  # highest band, nothing to compare
    }
    ids = {}
    for name, (before, middle, latest, licence, mrr) in cases.items():
        account = make_account(session, name=name)
        make_contract(session, account, mrr=mrr, end_date=date(2027, 3, 31))
        ids[name] = account.id
        for day, score in ((BEFORE, before), (MIDDLE, middle), (LATEST, latest)):
            if score is not None:
                measures = {"licence_activation": part(licence, (licence or 0) * 100, 0.2)}
                put_snapshot(session, card, account, day, score, measures=measures)
    return ids


def _names(ids: dict[str, int], found: list[int]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[i] for i in found]


def test_it_compares_with_the_newest_date_four_weeks_earlier() -> None:
    assert comparison_date([LATEST, MIDDLE, BEFORE]) == BEFORE
    assert comparison_date([LATEST, MIDDLE]) == MIDDLE  # nothing that old: the earliest
    assert comparison_date([LATEST]) is None


def test_it_puts_low_and_falling_customers_in_the_churn_queue(
    session: Session, accounts: dict[str, int]
) -> None:
    queues = work_queues(session)
    assert queues is not None
    assert (queues.as_of, queues.compared_with) == (LATEST, BEFORE)
    churn = sort_candidates(queues.churn, "-mrr")
    assert _names(accounts, [c.account_id for c in churn]) == ["Falling", "Dropping", "Red"]
    reasons = {c.account_id: c.reasons for c in churn}
    assert reasons[accounts["Red"]] == ("lowest_band",)
    assert reasons[accounts["Falling"]] == ("fell",)
    assert churn[0].change == pytest.approx(-15) and churn[0].mrr == 300_000


def test_it_puts_healthy_and_fully_licensed_customers_in_the_expansion_queue(
    session: Session, accounts: dict[str, int]
) -> None:
    queues = work_queues(session)
    assert queues is not None
    expansion = sort_candidates(queues.expansion, "-mrr")
    assert _names(accounts, [c.account_id for c in expansion]) == ["Licensed", "Rising", "New"]
    assert {c.account_id: c.reasons for c in expansion}[accounts["Licensed"]] == ("licences",)


def test_it_sorts_by_score_and_change_with_the_unknown_last(
    session: Session, accounts: dict[str, int]
) -> None:
    queues = work_queues(session)
    assert queues is not None
    by_score = sort_candidates(queues.expansion, "score")
    assert _names(accounts, [c.account_id for c in by_score]) == ["Licensed", "New", "Rising"]
    by_change = sort_candidates(queues.expansion, "-change")
    assert _names(accounts, [c.account_id for c in by_change]) == ["Rising", "Licensed", "New"]
    # Anything else falls back to MRR at stake, largest first.
    assert sort_candidates(queues.churn, "name; drop table") == sort_candidates(
        queues.churn, "-mrr"
    )


def test_it_pages_with_names_owners_and_renewals(
    session: Session, accounts: dict[str, int]
) -> None:
    queues = work_queues(session)
    assert queues is not None
    first = page_of(session, queues.churn, "-mrr", 1, TODAY, size=2)
    assert (first.total, first.page, first.pages) == (3, 1, 2)
    assert [r.name for r in first.rows] == ["Falling", "Dropping"]
    assert first.rows[0].renewal == date(2027, 3, 31)
    last = page_of(session, queues.churn, "-mrr", 9, TODAY, size=2)
    assert last.page == 2 and [r.name for r in last.rows] == ["Red"]


def test_it_has_no_queues_before_anything_is_scored(session: Session, actor: Actor) -> None:
    assert work_queues(session) is None
    make_scorecard(session, actor)
    assert work_queues(session) is None
