"""The work queues page: both tabs, sorted by MRR at stake, for everyone signed in."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from tests.conftest import Person
from tests.factories import make_account, make_contract
from tests.health.factories import make_scorecard, put_snapshot
from tests.web.conftest import Browse

BEFORE, LATEST = date(2026, 10, 4), date(2026, 11, 1)


def _scored(session: Session, actor: Actor) -> None:
    card = make_scorecard(session, actor)
    for name, before, latest, mrr in [
        ("小口の赤", 35, 30, 10_000),
        ("大口の急落", 80, 60, 900_000),
        ("中口の赤", 30, 20, 300_000),
        ("好調", 80, 90, 500_000),
    ]:
        account = make_account(session, name=name)
        make_contract(session, account, mrr=mrr, end_date=date(2027, 1, 31))
        put_snapshot(session, card, account, BEFORE, before)
        put_snapshot(session, card, account, LATEST, latest)


def test_it_lists_who_needs_a_churn_follow_up_biggest_first(
    web_client: Browse, charlie: Person, session: Session, actor: Actor
) -> None:
    _scored(session, actor)
    page = web_client(charlie).get("/health/queues")
    assert page.status_code == 200
    html = page.text
    assert html.index("大口の急落") < html.index("中口の赤") < html.index("小口の赤")
    assert "好調" not in html
    assert "¥900,000" in html and "-20" in html and "Fell 20 points" in html
    assert 'aria-sort="descending"' in html  # MRR at stake, largest first
    ascending = web_client(charlie).get("/health/queues?sort=mrr").text
    assert ascending.index("小口の赤") < ascending.index("大口の急落")
    by_score = web_client(charlie).get("/health/queues?sort=score").text
    assert by_score.index("中口の赤") < by_score.index("小口の赤") < by_score.index("大口の急落")


def test_it_lists_expansion_candidates_on_their_tab(
    web_client: Browse, bob: Person, session: Session, actor: Actor
) -> None:
    _scored(session, actor)
    html = web_client(bob).get("/health/queues?tab=expansion&page=x").text
    assert "好調" in html and "In the highest band" in html
    assert "大口の急落" not in html


def test_it_says_how_the_queues_fill(web_client: Browse, bob: Person) -> None:
    page = web_client(bob).get("/health/queues")
    assert page.status_code == 200
    assert "Nothing is scored yet" in page.text and "banso refresh" in page.text
    assert 'href="/health/queues" aria-current="page"' in page.text  # the main navigation
