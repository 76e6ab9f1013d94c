"""The customer page's health slot: score, band, trend and why in words; recording a rating."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.health.models import HealthRating, Scorecard
from tests.conftest import Person
from tests.factories import make_account
from tests.health.factories import make_scorecard, part, put_snapshot
from tests.web.conftest import Browse, form_token

HTMX = {"HX-Request": "true"}


@pytest.fixture
def card(session: Session, actor: Actor) -> Scorecard:
    return make_scorecard(session, actor, rating=True)


@pytest.fixture
def customer(session: Session) -> Account:
    return make_account(session, name="株式会社ヘルス")


def _two_snapshots(session: Session, card: Scorecard, customer: Account) -> None:
    """Active days fell from 17 to 9 over a month; MRR stayed; no CSM rating either time."""
    same = {"mrr": part(50_000, 50, 0.25), "csm_rating": part(None, None, 0.0)}
    before = {"days": part(17, 85, 0.75), **same}
    put_snapshot(session, card, customer, date(2026, 10, 1), 76.25, measures=before)
    now = {"days": part(9, 45, 0.75), **same}
    put_snapshot(session, card, customer, date(2026, 11, 1), 46.25, measures=now)


def test_it_shows_the_score_its_band_and_what_moved_it(
    web_client: Browse, charlie: Person, session: Session, card: Scorecard, customer: Account
) -> None:
    _two_snapshots(session, card, customer)
    page = web_client(charlie).get(f"/customers/{customer.id}/health", headers=HTMX)
    assert page.status_code == 200
    html = page.text
    assert '<strong class="hl-score" aria-label="Score">46</strong>' in html
    assert 'class="hl-band hl-band-yellow">Yellow</span>' in html
    assert "↓" in html and "falling" in html
    assert "-30 points since Oct 1, 2026 (76 then)" in html
    assert "Active days went from 17 to 9 (-47%): -30 points" in html
    assert "MRR went" not in html  # its contribution did not change
    # The measures, grouped, with the one without a value explained.
    assert "Usage" in html and "Relationship" in html
    assert "no value" in html and "its weight was shared among the others" in html
    assert "data-chart=" in html
    # A viewer may not rate.
    assert "Record a rating" not in html


def test_it_explains_in_japanese(
    web_client: Browse, bob: Person, session: Session, card: Scorecard, customer: Account
) -> None:
    _two_snapshots(session, card, customer)
    html = (
        web_client(bob)
        .get(f"/customers/{customer.id}/health", headers=HTMX | {"Accept-Language": "ja"})
        .text
    )
    assert "Active daysが 17 → 9（-47%）のため -30 点" in html


def test_it_says_how_to_get_a_score(
    web_client: Browse, bob: Person, card: Scorecard, customer: Account
) -> None:
    page = web_client(bob).get(f"/customers/{customer.id}/health", headers=HTMX)
    assert page.status_code == 200
    assert "has no score yet" in page.text and "banso refresh" in page.text


def test_it_fills_the_slot_of_the_customer_page(
    web_client: Browse, bob: Person, session: Session, card: Scorecard, customer: Account
) -> None:
    _two_snapshots(session, card, customer)
    client = web_client(bob)
    page = client.get(f"/customers/{customer.id}")
    assert f'hx-get="/customers/{customer.id}/health"' in page.text
    # The slot's old address leads to the same place; opened directly it is a page.
    direct = client.get(f"/customers/{customer.id}/slots/health")
    assert direct.status_code == 200 and "<!doctype html>" in direct.text
    assert "Active days went from 17 to 9" in direct.text


def _ratings(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(HealthRating)) or 0


def test_it_records_a_csms_rating(
    web_client: Browse, bob: Person, session: Session, card: Scorecard, customer: Account
) -> None:
    client = web_client(bob)
    slot = client.get(f"/customers/{customer.id}/health", headers=HTMX).text
    assert "Record a rating" in slot
    answer = client.post(
        f"/customers/{customer.id}/health/ratings",
        data={"scorecard": card.key, "measure": "csm_rating", "value": "80",
              "comment": "定例会で前向き", "csrf_token": form_token(slot)},
        headers=HTMX,
    )  # fmt: skip
    assert answer.status_code == 200
    rating = session.scalars(select(HealthRating)).one()
    assert (rating.value, rating.comment) == (80, "定例会で前向き")
    assert rating.rated_by == "bob@example.com via web"
    assert rating.expires_on == rating.rated_on + timedelta(days=90)
    assert "80 by bob" in answer.text


@pytest.mark.parametrize(
    ("value", "expires_on", "message"),
    [
        ("120", "", "Enter a number from 0 to 100."),
        ("abc", "", "Enter a number from 0 to 100."),
        ("50", "2020-01-01", "that is not in the past"),
        ("50", "next week", "that is not in the past"),
    ],
)
def test_it_refuses_a_bad_rating_and_stores_nothing(
    web_client: Browse,
    bob: Person,
    session: Session,
    card: Scorecard,
    customer: Account,
    value: str,
    expires_on: str,
    message: str,
) -> None:
    client = web_client(bob)
    token = form_token(client.get(f"/customers/{customer.id}/health", headers=HTMX).text)
    answer = client.post(
        f"/customers/{customer.id}/health/ratings",
        data={"scorecard": card.key, "measure": "csm_rating", "value": value,
              "expires_on": expires_on, "csrf_token": token},
        headers=HTMX,
    )  # fmt: skip
    assert answer.status_code == 422
    assert message in answer.text and 'aria-invalid="true"' in answer.text
    assert f'value="{value}"' in answer.text  # what was typed stays
    assert _ratings(session) == 0


def test_it_refuses_a_rating_from_a_viewer(
    web_client: Browse, charlie: Person, session: Session, card: Scorecard, customer: Account
) -> None:
    client = web_client(charlie)
    token = form_token(client.get("/customers").text)
    answer = client.post(
        f"/customers/{customer.id}/health/ratings",
        data={"scorecard": card.key, "measure": "csm_rating", "value": "80", "csrf_token": token},
    )
    assert answer.status_code == 403
    assert _ratings(session) == 0
