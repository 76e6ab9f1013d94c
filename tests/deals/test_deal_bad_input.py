"""Every deal write path refuses bad input with the field to fix, and stores text verbatim."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Person
from tests.deals.factories import make_deal
from tests.factories import make_account, make_contact

DEALS = "/api/v1/deals"
GOOD = {"title": "導入相談", "company_name": "株式会社サンプル"}
HOSTILE = [
    "Robert'); DROP TABLE deals;--",
    "<script>alert('x')</script>",
    "🙇‍♀️ よろしくお願いします 🎉",
    "line\r\nbreak\ttab\x1b[31m",
    "x" * 10_000,
]


def errors_of(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    return [e["field"] for e in body["errors"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stage_key": "unknown"}, "stage_key"),
        ({"stage_key": "lost"}, "lost_reason_key"),
        ({"stage_key": "lost", "lost_reason_key": "nope"}, "lost_reason_key"),
        ({"budget": 1200.5}, "budget"),
        ({"budget": 1200.0}, "budget"),
        ({"budget": "abc"}, "budget"),
        ({"budget": -1}, "budget"),
        ({"budget": 2**31}, "budget"),
        ({"budget": True}, "budget"),
        ({"expected_mrr": 9.99}, "expected_mrr"),
        ({"account_id": 999_999}, "account_id"),
        ({"account_id": 2**40}, "account_id"),
        ({"contact_id": 999_999}, "contact_id"),
        ({"owner_id": 999_999}, "owner_id"),
        ({"company_size": "huge"}, "company_size"),
        ({"currency": "ZZZ"}, "currency"),
        ({"inquiry_date": "2025-13-01"}, "inquiry_date"),
        ({"title": ""}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"problem": "nul\x00here"}, "problem"),
        ({"source_channel": "x" * 101}, "source_channel"),
        ({"custom": {"undefined_field": 1}}, "custom.undefined_field"),
        ({"external_ids": {"Bad System": "1"}}, "external_ids.Bad System.[key]"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_it_refuses_a_bad_new_deal(
    client: TestClient, bob: Person, change: dict[str, Any], field: str
) -> None:
    response = client.post(DEALS, json=GOOD | change, headers=bob.headers)
    assert field in errors_of(response)


def test_it_needs_a_company(client: TestClient, bob: Person) -> None:
    response = client.post(DEALS, json={"title": "会社不明"}, headers=bob.headers)
    assert response.status_code == 422
    assert "company_name" in response.json()["message"]


def test_it_refuses_a_contact_of_another_account(
    client: TestClient, bob: Person, session: Session
) -> None:
    contact = make_contact(session, make_account(session, name="A社"))
    other = make_account(session, name="B社")
    body = {"title": "t", "account_id": other.id, "contact_id": contact.id}
    assert errors_of(client.post(DEALS, json=body, headers=bob.headers)) == ["contact_id"]


@pytest.mark.parametrize("text", HOSTILE)
def test_it_stores_hostile_text_verbatim(client: TestClient, bob: Person, text: str) -> None:
    body = {
        "title": text[:300],
        "company_name": text[:300],
        "problem": text,
        "story": text,
        "source_channel": text[:100],
    }
    created = client.post(DEALS, json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    got = client.get(f"{DEALS}/{created.json()['id']}", headers=bob.headers).json()
    assert (got["problem"], got["story"]) == (text, text)
    assert got["company_name"] == text[:300].strip()
    found = client.get(DEALS, params={"q": text[:50].strip()}, headers=bob.headers).json()
    assert created.json()["id"] in [d["id"] for d in found["items"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stage_key": "nope"}, "stage_key"),
        ({"stage_key": None}, "stage_key"),
        ({"title": None}, "title"),
        ({"currency": None}, "currency"),
        ({"budget": 10.5}, "budget"),
        ({"account_id": 999_999}, "account_id"),
        ({"owner_id": -5}, "owner_id"),
        ({"lost_reason_key": "price"}, "lost_reason_key"),
        ({"closed_date": "2025-01-01"}, "closed_date"),
        ({"company_name": None}, "company_name"),
        ({"version": "one"}, "version"),
    ],
)
def test_it_refuses_a_bad_change(
    client: TestClient, bob: Person, session: Session, change: dict[str, Any], field: str
) -> None:
    deal = make_deal(session)
    response = client.patch(f"{DEALS}/{deal.id}", json={"version": 1} | change, headers=bob.headers)
    assert field in errors_of(response)
    assert client.get(f"{DEALS}/{deal.id}", headers=bob.headers).json()["version"] == 1


def test_it_answers_404_for_unknown_deals(client: TestClient, bob: Person) -> None:
    for deal_id in (999_999, 2**40, 0, -1):
        url = f"{DEALS}/{deal_id}"
        assert client.get(url, headers=bob.headers).status_code == 404
        assert client.patch(url, json={"version": 1}, headers=bob.headers).status_code == 404
        assert client.delete(f"{url}?confirm=true", headers=bob.headers).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "nope"}, "stage"),
        ({"outcome": "maybe"}, "outcome"),
        ({"company_size": "huge"}, "company_size"),
        ({"lost_reason_key": "nope"}, "lost_reason_key"),
        ({"inquiry_from": "2025-05-01", "inquiry_to": "2025-04-01"}, "inquiry_to"),
        ({"owner_id": 2**40}, "owner_id"),
        ({"q": "a\x00b"}, "q"),
        ({"sort": "password"}, "sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"custom.nope": "x"}, "custom.nope"),
    ],
)
def test_it_refuses_bad_list_parameters(
    client: TestClient, bob: Person, params: dict[str, Any], field: str
) -> None:
    assert field in errors_of(client.get(DEALS, params=params, headers=bob.headers))
