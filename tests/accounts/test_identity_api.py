from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Person
from tests.factories import make_account, make_contact, make_contract

HOSTILE = [
    "'; DROP TABLE accounts; --",
    "<script>alert(1)</script>",
    "🍣🍺" * 20,
    "x" * 900,
    "\u202e\u0007控制",
]


def _accounts(session: Session) -> tuple[int, int]:
    target = make_account(session, name="株式会社さくら", domains=["sakura.co.jp"], segment="SMB")
    source = make_account(session, name="さくら株式会社", segment="Enterprise")
    make_contact(session, source, email="buyer@sakura.co.jp")
    make_contract(session, source, mrr=20_000, start_date=date(2025, 1, 1), end_date=None)
    return source.id, target.id


def test_the_api_previews_then_merges(
    client: TestClient, session: Session, bob: Person, charlie: Person
) -> None:
    source_id, target_id = _accounts(session)
    url = f"/api/v1/accounts/{source_id}/merge"
    refused = client.post(url, json={"into": target_id}, headers=charlie.headers)
    assert refused.status_code == 403
    assert client.post(url, json={"into": target_id}).status_code == 401

    preview = client.post(url, json={"into": target_id}, headers=bob.headers)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["merged"] is False and plan["counts"]["contacts"] == 1
    assert plan["conflicts"]["segment"] == {"kept": "SMB", "source": "Enterprise"}

    body = {
        "into": target_id,
        "preview": False,
        "source_version": plan["source"]["version"],
        "target_version": plan["target"]["version"],
    }
    done = client.post(url, json=body, headers=bob.headers)
    assert done.status_code == 200 and done.json()["merged"] is True
    gone = client.get(f"/api/v1/accounts/{source_id}", headers=bob.headers)
    assert gone.status_code == 404
    assert f"merged into account {target_id}" in gone.json()["message"]
    kept = client.get(f"/api/v1/accounts/{target_id}", headers=bob.headers).json()
    assert kept["mrr"] == 20_000 and kept["segment"] == "SMB"
    again = client.post(url, json=body, headers=bob.headers)
    assert again.status_code == 404 and "merged into" in again.json()["message"]


def test_a_merge_of_changed_records_is_a_conflict(
    client: TestClient, session: Session, bob: Person
) -> None:
    source_id, target_id = _accounts(session)
    url = f"/api/v1/accounts/{source_id}/merge"
    plan = client.post(url, json={"into": target_id}, headers=bob.headers).json()
    patch = {"version": plan["target"]["version"], "segment": "Mid-Market"}
    changed = client.patch(f"/api/v1/accounts/{target_id}", json=patch, headers=bob.headers)
    assert changed.status_code == 200, changed.text
    body = {"into": target_id, "preview": False, "target_version": plan["target"]["version"]}
    stale = client.post(url, json=body, headers=bob.headers)
    assert stale.status_code == 409 and "preview the merge again" in stale.json()["message"]
    still = client.get(f"/api/v1/accounts/{source_id}", headers=bob.headers)
    assert still.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"into": "x"}, "into"),
        ({"into": 0}, "into"),
        ({"into": 2**40}, "into"),
        ({}, "into"),
        ({"into": 1, "preview": "maybe"}, "preview"),
        ({"into": 1, "extra": True}, "extra"),
        ({"into": 1, "source_version": -1}, "source_version"),
    ],
)
def test_a_bad_merge_request_says_what_to_fix(
    client: TestClient, session: Session, bob: Person, body: dict[str, Any], field: str
) -> None:
    source_id, _ = _accounts(session)
    response = client.post(f"/api/v1/accounts/{source_id}/merge", json=body, headers=bob.headers)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_merging_into_itself_or_an_unknown_account_is_refused(
    client: TestClient, session: Session, bob: Person
) -> None:
    source_id, _ = _accounts(session)
    url = f"/api/v1/accounts/{source_id}/merge"
    itself = client.post(url, json={"into": source_id, "preview": False}, headers=bob.headers)
    assert itself.status_code == 422 and itself.json()["errors"][0]["field"] == "into"
    unknown = client.post(url, json={"into": 999_999}, headers=bob.headers)
    assert unknown.status_code == 404 and "999999" in unknown.json()["message"]
    nowhere = client.post(
        "/api/v1/accounts/999999/merge", json={"into": source_id}, headers=bob.headers
    )
    assert nowhere.status_code == 404
    huge = client.post(f"/api/v1/accounts/{2**40}/merge", json={"into": 1}, headers=bob.headers)
    assert huge.status_code == 404


def test_the_api_merges_contacts(
    client: TestClient, session: Session, bob: Person, charlie: Person
) -> None:
    account = make_account(session)
    keep = make_contact(session, account, name="山田 太郎", email="taro@example.jp")
    drop = make_contact(session, account, name="山田太郎", phone="090-0000-0000")
    url = f"/api/v1/contacts/{drop.id}/merge"
    assert client.post(url, json={"into": keep.id}, headers=charlie.headers).status_code == 403
    preview = client.post(url, json={"into": keep.id}, headers=bob.headers).json()
    assert preview["fill"] == {"phone": "090-0000-0000"} and preview["merged"] is False
    done = client.post(url, json={"into": keep.id, "preview": False}, headers=bob.headers)
    assert done.status_code == 200 and done.json()["merged"] is True
    kept = client.get(f"/api/v1/contacts/{keep.id}", headers=bob.headers).json()
    assert kept["phone"] == "090-0000-0000"
    assert client.get(f"/api/v1/contacts/{drop.id}", headers=bob.headers).status_code == 404
    itself = client.post(
        f"/api/v1/contacts/{keep.id}/merge", json={"into": keep.id}, headers=bob.headers
    )
    assert itself.status_code == 422


def test_the_api_lists_duplicates_page_by_page(
    client: TestClient, session: Session, charlie: Person
) -> None:
    pairs = []
    for n in range(5):
        a = make_account(session, name=f"株式会社ダブり{n}", domains=[f"dup{n}.jp"])
        b = make_account(session, name=f"ダブり{n}株式会社")
        pairs.append((a.id, b.id))
    url = "/api/v1/duplicates/accounts"
    first = client.get(url, params={"limit": 3}, headers=charlie.headers)
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 3 and body["next_cursor"]
    assert body["items"][0]["reasons"] == ["same_name"]
    assert body["items"][0]["score"] == 50
    rest = client.get(
        url, params={"limit": 3, "cursor": body["next_cursor"]}, headers=charlie.headers
    ).json()
    listed = {(p["first_id"], p["second_id"]) for p in body["items"] + rest["items"]}
    assert listed == set(pairs) and rest["next_cursor"] is None
    assert client.get(url).status_code == 401
    bad = client.get(url, params={"cursor": "nonsense"}, headers=charlie.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    too_many = client.get(url, params={"limit": 501}, headers=charlie.headers)
    assert too_many.status_code == 422


def test_the_api_lists_duplicate_contacts(
    client: TestClient, session: Session, charlie: Person
) -> None:
    a = make_contact(session, make_account(session), email="same@example.jp")
    b = make_contact(session, make_account(session, name="他社"), email="SAME@example.jp")
    body = client.get("/api/v1/duplicates/contacts", headers=charlie.headers).json()
    assert body == {
        "items": [{"first_id": a.id, "second_id": b.id, "reasons": ["same_email"], "score": 80}],
        "next_cursor": None,
    }


def test_the_api_resolves_an_account_and_says_why(
    client: TestClient, session: Session, charlie: Person
) -> None:
    account = make_account(
        session, name="株式会社さくら", domains=["sakura.co.jp"], external_ids={"hubspot": "42"}
    )
    url = "/api/v1/resolve/account"

    def resolve(**params: str) -> Any:
        return client.get(url, params=params, headers=charlie.headers)

    assert resolve(email="x@sakura.co.jp").json() == {
        "id": account.id,
        "reason": "domain",
        "candidates": [],
    }
    assert resolve(system="hubspot", external_id="42").json()["reason"] == "external_id"
    assert resolve(name="ｻｸﾗ").json()["reason"] == "name"
    assert resolve(name="なし").status_code == 404
    assert resolve(email="x@gmail.com").status_code == 404
    assert resolve().status_code == 422
    assert resolve(system="hubspot").json()["errors"][0]["field"] == "external_id"
    assert resolve(domain="not a domain").json()["errors"][0]["field"] == "domain"
    assert resolve(name="a\x00b").status_code == 422
    assert resolve(name="y" * 1001).status_code == 422
    for value in HOSTILE:
        assert resolve(name=value, email=f"{value}@example.jp").status_code == 404


def test_the_api_resolves_a_contact(client: TestClient, session: Session, charlie: Person) -> None:
    account = make_account(session)
    contact = make_contact(session, account, email="hanako@example.jp")
    url = "/api/v1/resolve/contact"
    found = client.get(url, params={"email": "Hanako@Example.jp"}, headers=charlie.headers)
    assert found.json() == {"id": contact.id, "reason": "email", "candidates": []}
    elsewhere = client.get(
        url,
        params={"email": "hanako@example.jp", "account_id": account.id + 1},
        headers=charlie.headers,
    )
    assert elsewhere.status_code == 404
    assert client.get(url, headers=charlie.headers).status_code == 422
    bad = client.get(url, params={"account_id": "x", "email": "a@b.jp"}, headers=charlie.headers)
    assert bad.status_code == 422
