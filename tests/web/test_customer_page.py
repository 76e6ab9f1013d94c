"""The customer page over HTTP: header figures, chart data, inline edits, permissions."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.customfields import CustomFieldIn
from banso.accounts.merge import merge_accounts
from banso.accounts.models import Account
from banso.accounts.overview import edit_account_field, history_points
from banso.audit.service import Actor
from banso.contracts.service import account_movements, mrr_series
from banso.deals.models import PipelineStage
from tests.conftest import Person
from tests.deals.factories import make_deal
from tests.factories import make_account, make_contact, make_contract
from tests.web.conftest import Browse

HOSTILE = "<script>alert('x')</script>'; DROP TABLE accounts;--"


@pytest.fixture
def browse(web_client: Browse) -> Browse:
    """A client signed in as the given person (or a visitor, for None)."""
    return lambda person: web_client(person, follow_redirects=False)


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r"X-CSRF-Token(?:&#34;|\")\s*:\s*(?:&#34;|\")([^&\"]+)", page
    )
    assert found, "the page carries no CSRF token"
    return found.group(1)


def _post(client: TestClient, account_id: int, url: str, data: dict[str, Any]) -> Any:
    token = _token(client.get(f"/customers/{account_id}").text)
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    return client.post(url, data={**data, "csrf_token": token}, headers=headers)


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


@pytest.fixture
def customer(session: Session, bob: Person) -> Account:
    account = make_account(
        session, name="東京商事", lifecycle_stage="stable", owner_id=bob.user.id, tags=["重要"]
    )
    start = _today() - timedelta(days=200)
    make_contract(session, account, mrr=50_000, start_date=start, end_date=_today() + timedelta(40))
    make_contract(
        session,
        account,
        plan="Option",
        mrr=5_000,
        start_date=start,
        end_date=_today() + timedelta(days=100),
    )
    make_contact(session, account, name="渡辺 健", is_key_person=True, role="decision_maker")
    session.commit()
    return account


def test_it_shows_the_header_figures(browse: Browse, bob: Person, customer: Account) -> None:
    page = browse(bob).get(f"/customers/{customer.id}")

    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "東京商事" in text and "¥55,000" in text
    assert "40" in re.sub(r"\s+", " ", text.split("c360-renewal-date")[1])[:200]
    assert bob.user.name in text and "渡辺 健" in text and "#重要" in text


def test_it_gives_the_chart_the_movement_series(
    browse: Browse, bob: Person, customer: Account, session: Session
) -> None:
    page = browse(bob).get(f"/customers/{customer.id}")

    found = re.search(r"id=\"mrr-chart\" data-chart='([^']+)'", page.text)
    assert found
    chart = json.loads(html.unescape(found.group(1)))
    points = history_points(account_movements(session, customer.id), _today())
    expected = mrr_series(session, points, account_id=customer.id)
    assert chart["labels"] == [p.isoformat() for p, _ in expected]
    assert chart["datasets"][0]["data"] == [v for _, v in expected]
    assert chart["datasets"][0]["data"][-1] == 55_000


def test_it_saves_an_inline_edit(
    browse: Browse, bob: Person, customer: Account, session: Session
) -> None:
    client = browse(bob)
    url = f"/customers/{customer.id}/edit/segment"
    read = customer.version

    answer = _post(client, customer.id, url, {"value": "エンタープライズ", "version": str(read)})

    assert answer.status_code == 200
    assert "エンタープライズ" in answer.text and "c360-editing" not in answer.text
    session.refresh(customer)
    assert customer.segment == "エンタープライズ" and customer.version == read + 1


def test_it_tells_the_second_editor_and_overwrites_nothing(
    browse: Browse, bob: Person, alice: Person, customer: Account, session: Session
) -> None:
    read = customer.version
    edit_account_field(session, Actor(label="alice"), customer.id, "industry", "小売", read)
    session.commit()
    client = browse(bob)
    token = _token(client.get(f"/customers/{customer.id}").text)

    answer = client.post(
        f"/customers/{customer.id}/edit/industry",
        data={"value": "物流", "version": str(read), "csrf_token": token},
        headers={"X-CSRF-Token": token},
    )

    assert answer.status_code == 409
    assert "小売" in answer.text and "物流" in answer.text
    # Re-applying sends the current version, so the second person can still save theirs.
    assert f'name="version" value="{read + 1}"' in answer.text
    session.refresh(customer)
    assert customer.industry == "小売"


def test_it_refuses_a_word_for_a_number_field(
    browse: Browse, bob: Person, alice: Person, customer: Account, session: Session
) -> None:
    customfields.create_definition(
        session,
        Actor(label="alice"),
        CustomFieldIn(key="seats_planned", type="number", label_ja="予定席数", label_en="Planned"),
    )
    session.commit()
    client = browse(bob)
    token = _token(client.get(f"/customers/{customer.id}").text)

    answer = client.post(
        f"/customers/{customer.id}/edit/custom.seats_planned",
        data={"value": "たくさん", "version": str(customer.version), "csrf_token": token},
        headers={"X-CSRF-Token": token},
    )

    assert answer.status_code == 422
    assert "custom" not in html.unescape(answer.text).split("c360-errors")[0][-10:]
    assert ("たくさん" in answer.text and "Planned" in answer.text) or "予定席数" in answer.text
    read = customer.version
    session.refresh(customer)
    assert customer.custom == {} and customer.version == read


def test_it_refuses_a_too_long_name(
    browse: Browse, bob: Person, customer: Account, session: Session
) -> None:
    client = browse(bob)
    token = _token(client.get(f"/customers/{customer.id}").text)

    answer = client.post(
        f"/customers/{customer.id}/edit/name",
        data={"value": "株" * 301, "version": str(customer.version), "csrf_token": token},
        headers={"X-CSRF-Token": token},
    )

    assert answer.status_code == 422
    session.refresh(customer)
    assert customer.name == "東京商事"


def test_it_shows_hostile_text_as_text(
    browse: Browse, bob: Person, customer: Account, session: Session
) -> None:
    client = browse(bob)
    url = f"/customers/{customer.id}/edit/industry"
    data = {"value": HOSTILE, "version": str(customer.version)}
    assert _post(client, customer.id, url, data).status_code == 200
    make_contact(session, customer, name=HOSTILE, title=HOSTILE)
    session.commit()

    page = client.get(f"/customers/{customer.id}")

    assert "<script>alert" not in page.text
    assert html.escape(HOSTILE, quote=False).replace("'", "&#39;") in page.text


def test_it_lets_a_viewer_look_but_not_edit(
    browse: Browse, charlie: Person, customer: Account
) -> None:
    client = browse(charlie)
    page = client.get(f"/customers/{customer.id}")
    assert page.status_code == 200
    assert f"/customers/{customer.id}/edit/" not in page.text

    assert client.get(f"/customers/{customer.id}/edit/segment").status_code == 403
    token = _token(page.text)
    for url in (f"/customers/{customer.id}/edit/segment", f"/customers/{customer.id}/contacts"):
        answer = client.post(
            url, data={"value": "x", "version": "1", "name": "x", "csrf_token": token}
        )
        assert answer.status_code == 403


def test_it_sends_anonymous_visitors_to_sign_in(browse: Browse, customer: Account) -> None:
    answer = browse(None).get(f"/customers/{customer.id}")

    assert answer.status_code in (302, 303, 307)
    assert answer.headers["location"].startswith("/login")


def test_it_adds_a_contact_and_refuses_a_nameless_one(
    browse: Browse, bob: Person, customer: Account, session: Session
) -> None:
    client = browse(bob)
    token = _token(client.get(f"/customers/{customer.id}").text)
    url = f"/customers/{customer.id}/contacts"

    added = client.post(url, data={"name": "佐藤 花子", "role": "power_user", "csrf_token": token})
    refused = client.post(url, data={"name": " ", "email": "x@", "csrf_token": token})

    assert added.status_code == 303
    assert refused.status_code == 422
    assert "佐藤 花子" in client.get(f"/customers/{customer.id}").text


def test_it_fills_every_slot_or_says_what_will_appear(
    browse: Browse, bob: Person, customer: Account
) -> None:
    client = browse(bob)
    for slot in ("health", "usage", "profile", "timeline", "tasks", "journey"):
        answer = client.get(f"/customers/{customer.id}/slots/{slot}")
        if slot in ("health", "profile", "timeline", "tasks"):  # filled by their capability
            assert answer.headers["location"] == f"/customers/{customer.id}/{slot}"
            answer = client.get(answer.headers["location"])
        assert answer.status_code == 200 and "<h2>" in answer.text
    assert client.get(f"/customers/{customer.id}/slots/nope").status_code == 404


def test_it_points_a_merged_customer_to_where_it_went(
    browse: Browse, bob: Person, customer: Account, session: Session
) -> None:
    other = make_account(session, name="東京商事(旧)")
    merge_accounts(session, Actor(label="bob"), other.id, customer.id, preview=False)
    session.commit()

    answer = browse(bob).get(f"/customers/{other.id}")

    assert answer.status_code == 410
    assert f'href="/customers/{customer.id}"' in answer.text


def test_it_lists_the_customers_deals_with_their_stage(
    browse: Browse, bob: Person, customer: Account, session: Session
) -> None:
    deal = make_deal(session, account_id=customer.id, title="追加ライセンスの相談")
    session.commit()

    page = browse(bob).get(f"/customers/{customer.id}")

    row = page.text.split("追加ライセンスの相談")[1].split("</tr>")[0]
    stage = session.get(PipelineStage, deal.stage_key)
    assert stage is not None and (stage.label_en in row or stage.label_ja in row)
