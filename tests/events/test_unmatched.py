"""Unmatched product users and groups: listing them and linking them by hand (REST)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.events.identities import apply_facts, facts_of
from tests.conftest import Person
from tests.factories import make_account, make_contact


def _seed(session: Session) -> None:
    rows = [
        {"type": "identify", "user_id": f"u{i}", "traits": {"email": f"p{i}@nowhere.example"}}
        for i in range(3)
    ]
    rows.append({"type": "group", "user_id": "u0", "group_id": "g-unknown", "traits": {}})
    apply_facts(session, facts_of(rows))
    session.commit()


def test_it_lists_unmatched_users_page_by_page(
    client: TestClient, session: Session, charlie: Person
) -> None:
    _seed(session)
    first = client.get("/api/v1/usage/unmatched-users?limit=2", headers=charlie.headers).json()
    assert [u["user_id"] for u in first["items"]] == ["u0", "u1"]
    assert first["items"][0]["email"] == "p0@nowhere.example"
    after = first["next_after"]
    second = client.get(
        f"/api/v1/usage/unmatched-users?limit=2&after={after}", headers=charlie.headers
    ).json()
    assert [u["user_id"] for u in second["items"]] == ["u2"]
    assert second["next_after"] is None
    groups = client.get("/api/v1/usage/unmatched-groups", headers=charlie.headers).json()
    assert [g["group_id"] for g in groups["items"]] == ["g-unknown"]


def test_it_links_a_user_and_a_group_by_hand(
    client: TestClient, session: Session, bob: Person
) -> None:
    _seed(session)
    account = make_account(session, name="株式会社むすぶ")
    contact = make_contact(session, account, email="other@musubu.example")
    session.commit()
    body = {"user_id": "u1", "account_id": account.id, "contact_id": contact.id}
    response = client.post("/api/v1/usage/unmatched-users/link", json=body, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert response.json()["link_source"] == "manual"
    body = {"group_id": "g-unknown", "account_id": account.id}
    response = client.post("/api/v1/usage/unmatched-groups/link", json=body, headers=bob.headers)
    assert response.json()["account_id"] == account.id
    users = client.get("/api/v1/usage/unmatched-users", headers=bob.headers).json()
    assert [u["user_id"] for u in users["items"]] == ["u0", "u2"]


def test_it_refuses_bad_links_saying_why(
    client: TestClient, session: Session, bob: Person, charlie: Person
) -> None:
    _seed(session)
    account = make_account(session, name="株式会社むすぶ")
    stranger = make_contact(session, make_account(session, name="他社"), email="s@x.example")
    session.commit()
    url = "/api/v1/usage/unmatched-users/link"
    viewer = client.post(
        url, json={"user_id": "u1", "account_id": account.id}, headers=charlie.headers
    )
    assert viewer.status_code == 403
    missing = client.post(
        url, json={"user_id": "nobody", "account_id": account.id}, headers=bob.headers
    )
    assert missing.status_code == 404
    no_account = client.post(
        url, json={"user_id": "u1", "account_id": 999_999}, headers=bob.headers
    )
    assert no_account.status_code == 422
    assert "account_id" in no_account.text
    body = {"user_id": "u1", "account_id": account.id, "contact_id": stranger.id}
    wrong_contact = client.post(url, json=body, headers=bob.headers)
    assert wrong_contact.status_code == 422
    assert "contact_id" in wrong_contact.text
    too_long = client.post(url, json={"user_id": "u" * 201, "account_id": 1}, headers=bob.headers)
    assert too_long.status_code == 422
