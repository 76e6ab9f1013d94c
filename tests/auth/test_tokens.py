"""API tokens: only a live token of an active user gets in; every refusal says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.auth.models import ApiToken
from banso.auth.service import authenticate_token, create_token, revoke_token
from tests.auth.routes import api_routes
from tests.conftest import Person

ACCOUNTS = "/api/v1/accounts"


def _refused(client: TestClient, headers: dict[str, str]) -> str:
    response = client.get(ACCOUNTS, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    return str(response.json()["message"])


def test_it_lets_a_live_token_in(client: TestClient, bob: Person) -> None:
    assert client.get(ACCOUNTS, headers=bob.headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic Ym9iOnNlY3JldA=="},
        {"Authorization": "Token banso_abc"},
    ],
)
def test_it_asks_for_a_token_when_none_is_sent(client: TestClient, headers: dict[str, str]) -> None:
    assert "Authorization: Bearer <token>" in _refused(client, headers)


@pytest.mark.parametrize(
    "token",
    ["banso_not-a-real-token", "nothing-like-ours", "banso_" + "x" * 300, "' OR '1'='1"],
)
def test_it_refuses_an_unknown_token(client: TestClient, bob: Person, token: str) -> None:
    assert "unknown, revoked or expired" in _refused(client, {"Authorization": f"Bearer {token}"})


def test_it_refuses_a_revoked_token(client: TestClient, session: Session, bob: Person) -> None:
    token = session.query(ApiToken).filter_by(user_id=bob.user.id).one()
    revoke_token(session, bob.actor, token.id)
    assert "revoked" in _refused(client, bob.headers)


def test_it_refuses_an_expired_token_and_accepts_one_not_yet_expired(
    client: TestClient, session: Session, bob: Person
) -> None:
    _, fresh = create_token(session, bob.actor, bob.user, "30 days", expires_in_days=30)
    token = session.query(ApiToken).filter_by(user_id=bob.user.id, name="csm token").one()
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.flush()
    assert "expired" in _refused(client, bob.headers)
    ok = client.get(ACCOUNTS, headers={"Authorization": f"Bearer {fresh}"})
    assert ok.status_code == 200


def test_it_refuses_the_token_of_a_deactivated_user(
    client: TestClient, session: Session, bob: Person
) -> None:
    bob.user.is_active = False
    session.flush()
    _refused(client, bob.headers)


def test_it_notes_when_a_token_was_last_used(session: Session, bob: Person) -> None:
    token = session.query(ApiToken).filter_by(user_id=bob.user.id).one()
    assert token.last_used_at is None
    assert authenticate_token(session, bob.token) is bob.user
    assert token.last_used_at is not None


def test_every_api_route_wants_a_token(app: FastAPI, client: TestClient) -> None:
    """Walks the app's routes, so a route added later without the token check fails here."""
    checked = []
    for method, path, url in api_routes(app):
        response = client.request(method, url, json={})
        assert response.status_code == 401, (method, path, response.text)
        checked.append((method, path))
    assert ("GET", "/api/v1/accounts") in checked
    assert ("DELETE", "/api/v1/custom-fields/{field_id}") in checked


def test_the_documentation_needs_no_token(client: TestClient) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/healthz").status_code == 200
