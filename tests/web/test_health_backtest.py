"""The backtest page: managers only; the report, suggested weights and applying them."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.contracts.schemas import MovementIn
from banso.contracts.service import record_movement
from banso.health.models import Scorecard
from banso.health.service import get_scorecard, spec_of, versions
from tests.conftest import Person, make_person
from tests.factories import make_account, make_contract
from tests.health.factories import make_scorecard, part, put_snapshot
from tests.web.conftest import Browse, form_token

TODAY = datetime.now(ZoneInfo("Asia/Tokyo")).date()
HORIZON = 30


@pytest.fixture
def dave(session: Session) -> Person:
    return make_person(session, "dave@example.com", "manager")


@pytest.fixture
def card(session: Session, actor: Actor) -> Scorecard:
    return make_scorecard(session, actor)


def _history(session: Session, actor: Actor, card: Scorecard) -> list[date]:
    """Eight dates ten days apart; after each, two low scorers churn within the horizon."""
    dates = [TODAY - timedelta(days=200 - 10 * k) for k in range(8)]
    for k, day in enumerate(dates):
        for i in range(4):
            churns = i < 2
            account = make_account(session, name=f"顧客 {k}-{i}")
            contract = make_contract(session, account, start_date=TODAY - timedelta(days=400),
                                     end_date=TODAY + timedelta(days=365))  # fmt: skip
            days = 3 + i if churns else 15 + i
            # A churner is scored in the two weeks before it leaves; the others all along.
            measures = {"days": part(days, days / 20 * 100, 0.75), "mrr": part(50_000, 50, 0.25)}
            for earlier in dates[max(0, k - 1) : k + 1] if churns else dates[: k + 1]:
                score = days / 20 * 75 + 12.5
                put_snapshot(session, card, account, earlier, score, measures=measures)
            if churns:
                churn = MovementIn(kind="churn", effective_date=day + timedelta(days=15))
                record_movement(session, actor, contract.id, churn)
    return dates


def test_it_shows_the_backtest_to_managers_only(
    web_client: Browse, dave: Person, alice: Person, bob: Person, charlie: Person, card: Scorecard
) -> None:
    assert web_client(dave).get("/health/backtest").status_code == 200
    assert web_client(alice).get("/health/backtest").status_code == 200
    for person in (bob, charlie):
        assert web_client(person).get("/health/backtest").status_code == 403
    assert "/health/backtest" in web_client(dave).get("/health/queues").text
    assert "/health/backtest" not in web_client(bob).get("/health/queues").text


def test_it_says_when_there_is_too_little_history(
    web_client: Browse, dave: Person, card: Scorecard
) -> None:
    page = web_client(dave).get("/health/backtest")
    assert page.status_code == 200
    assert "There is too little history to judge the score" in page.text
    # The defaults: the primary scorecard, a year back to today, 90 days, churn.
    assert f'value="{(TODAY - timedelta(days=365)).isoformat()[:4]}' in page.text
    assert 'name="horizon" inputmode="numeric" value="90"' in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("horizon=abc", "Enter a whole number of days from 1 to 730."),
        ("horizon=0", "Enter a whole number of days from 1 to 730."),
        ("from=2026-13-01", "Enter the start as a date"),
        ("from=2026-05-01&to=2026-04-01", "not before the start"),
        ("outcome=everything", "Choose one of the outcomes."),
        ("scorecard=nope", "Choose a scorecard."),
    ],
)
def test_it_explains_a_bad_setting(
    web_client: Browse, dave: Person, card: Scorecard, query: str, message: str
) -> None:
    page = web_client(dave).get(f"/health/backtest?{query}")
    assert page.status_code == 422
    assert message in page.text and 'aria-invalid="true"' in page.text


def test_it_reports_how_well_the_score_predicted_churn(
    web_client: Browse, dave: Person, session: Session, actor: Actor, card: Scorecard
) -> None:
    dates = _history(session, actor, card)
    query = f"from={dates[0]}&to={dates[-1]}&horizon={HORIZON}&outcome=churn"
    page = web_client(dave).get(f"/health/backtest?{query}")
    assert page.status_code == 200, page.text[-2000:]
    html = page.text
    assert "AUC" in html and "1.000" in html  # the low scorers are exactly the churners
    assert "Lift by decile" in html and "data-chart=" in html
    assert "Churn rate by band" in html and "Each measure on its own" in html
    assert "Suggested weights" in html and "Calibration on the later scores" in html
    assert "Apply as version 2" in html and "data-confirm=" in html


def test_it_applies_suggested_weights_as_a_new_version(
    web_client: Browse, dave: Person, session: Session, card: Scorecard
) -> None:
    client = web_client(dave)
    token = form_token(client.get("/health/backtest").text)
    answer = client.post(
        "/health/backtest/apply",
        data={"scorecard": card.key, "version": "1", "weights": json.dumps({"days": 80, "mrr": 20}),
              "note": "backtest 2026-11", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/health/scorecards/{card.key}"
    card = get_scorecard(session, card.key)
    assert card.current_version == 2
    assert {m.key: m.weight for m in spec_of(session, card).measures} == {"days": 80, "mrr": 20}
    assert versions(session, card)[0].note == "backtest 2026-11"
    shown = client.get(answer.headers["location"]).text
    assert "Saved as version 2 of Fit score." in shown


@pytest.mark.parametrize(
    ("version", "weights", "status"),
    [
        ("0", {"days": 80, "mrr": 20}, 409),  # the scorecard changed since
        ("1", {"days": -5, "mrr": 20}, 422),
        ("1", {"days": 0, "mrr": 0}, 422),
        ("1", {"visits": 50}, 422),
    ],
)
def test_it_refuses_weights_it_cannot_apply(
    web_client: Browse,
    dave: Person,
    session: Session,
    card: Scorecard,
    version: str,
    weights: dict[str, float],
    status: int,
) -> None:
    client = web_client(dave)
    token = form_token(client.get("/health/backtest").text)
    answer = client.post(
        "/health/backtest/apply",
        data={"scorecard": card.key, "version": version, "weights": json.dumps(weights),
              "csrf_token": token},
    )  # fmt: skip
    assert answer.status_code == status
    assert "error-box" in answer.text
    assert get_scorecard(session, card.key).current_version == 1


def test_it_does_not_let_a_csm_apply_weights(
    web_client: Browse, bob: Person, session: Session, card: Scorecard
) -> None:
    client = web_client(bob)
    token = form_token(client.get("/health/queues").text)
    answer = client.post(
        "/health/backtest/apply",
        data={"scorecard": card.key, "version": "1", "weights": '{"days": 1}',
              "csrf_token": token},
    )  # fmt: skip
    assert answer.status_code == 403
    assert get_scorecard(session, card.key).current_version == 1
