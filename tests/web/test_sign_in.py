"""Signing in and out: passwords, slowed-down guessing, session expiry, cookie flags."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from banso.auth.service import hash_password
from banso.db import utcnow
from banso.web import security
from banso.web.models import LoginAttempt, WebSession
from tests.conftest import Person
from tests.web.conftest import PASSWORD, SignIn, form_token


@pytest.fixture
def bob_with_password(session: Session, bob: Person) -> Person:
    bob.user.password_hash = hash_password(PASSWORD)
    session.flush()
    return bob


def attempt(client: TestClient, email: str, password: str, next_url: str = "") -> object:
    token = form_token(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


def test_it_signs_in_and_out(anonymous: TestClient, bob_with_password: Person) -> None:
    answer = attempt(anonymous, "BOB@example.com ", PASSWORD, "/customers?q=東京")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert unquote(answer.headers["location"]) == "/customers?q=東京"  # type: ignore[attr-defined]
    page = anonymous.get("/customers")
    assert page.status_code == 200 and "bob" in page.text
    anonymous.post("/logout", data={"csrf_token": form_token(page.text)})
    assert anonymous.get("/customers", follow_redirects=False).status_code == 303


def test_it_ends_the_session_on_the_server_at_sign_out(
    anonymous: TestClient, bob_with_password: Person, session: Session
) -> None:
    attempt(anonymous, "bob@example.com", PASSWORD)
    cookie = anonymous.cookies.get(security.SESSION_COOKIE)
    assert cookie and session.scalar(select(WebSession.token_hash)) != cookie  # only a hash
    page = anonymous.get("/customers")
    anonymous.post("/logout", data={"csrf_token": form_token(page.text)})
    replay = TestClient(anonymous.app, cookies={security.SESSION_COOKIE: cookie})
    assert replay.get("/customers", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("password", ["wrong password", ""])
def test_it_refuses_a_wrong_password_without_saying_which_part(
    anonymous: TestClient, bob_with_password: Person, password: str
) -> None:
    wrong = attempt(anonymous, "bob@example.com", password)
    unknown = attempt(anonymous, "nobody@example.com", "whatever password")
    assert wrong.status_code in (401, 422)  # type: ignore[attr-defined]
    assert unknown.status_code == 401  # type: ignore[attr-defined]
    assert security.SESSION_COOKIE not in anonymous.cookies
    if password:
        assert "e-mail address or the password is wrong" in wrong.text  # type: ignore[attr-defined]
    assert "e-mail address or the password is wrong" in unknown.text  # type: ignore[attr-defined]


def test_it_slows_down_repeated_guessing(
    anonymous: TestClient, bob_with_password: Person, session: Session
) -> None:
    for _ in range(security.FREE_FAILURES):
        assert attempt(anonymous, "bob@example.com", "guess").status_code == 401  # type: ignore[attr-defined]
    refused = attempt(anonymous, "bob@example.com", PASSWORD)  # even the right one must wait
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert 0 < int(refused.headers["retry-after"]) <= 15  # type: ignore[attr-defined]
    assert "Too many failed sign-ins" in refused.text  # type: ignore[attr-defined]
    # Once the wait is over, the right password works and clears the count.
    session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(seconds=20)))
    assert attempt(anonymous, "bob@example.com", PASSWORD).status_code == 303  # type: ignore[attr-defined]


def test_it_doubles_the_wait_with_each_further_failure(session: Session) -> None:
    for _ in range(security.FREE_FAILURES + 2):
        session.add(LoginAttempt(email="x@example.com", address="10.0.0.1", at=utcnow()))
    session.flush()
    wait = security.retry_after(session, "x@example.com", "10.0.0.2")
    assert 45 < wait <= 60  # 15 s doubled twice
    # Another address is throttled on its own count, which this one has not reached.
    assert security.retry_after(session, "y@example.com", "10.0.0.1") == 0


def test_it_ends_idle_and_old_sessions(
    anonymous: TestClient, bob_with_password: Person, session: Session
) -> None:
    attempt(anonymous, "bob@example.com", PASSWORD)
    assert anonymous.get("/customers", follow_redirects=False).status_code == 200
    session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    answer = anonymous.get("/customers", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_it_ends_the_session_of_a_deactivated_user(
    signed_in: SignIn, bob: Person, session: Session
) -> None:
    client = signed_in(bob)
    bob.user.is_active = False
    session.flush()
    assert client.get("/customers", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example.com/x", "https://evil.example.com", "/\\evil"])
def test_it_never_sends_a_signed_in_user_to_another_site(
    anonymous: TestClient, bob_with_password: Person, target: str
) -> None:
    answer = attempt(anonymous, "bob@example.com", PASSWORD, target)
    assert answer.headers["location"] == "/customers"  # type: ignore[attr-defined]


def test_it_sets_safe_cookie_flags(app: FastAPI, bob_with_password: Person) -> None:
    with TestClient(app, base_url="https://banso.example.com") as client:
        answer = attempt(client, "bob@example.com", PASSWORD)
    cookie = next(
        c
        for c in answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
        if c.startswith(security.SESSION_COOKIE)
    )
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags


def test_it_answers_pages_with_protective_headers(anonymous: TestClient) -> None:
    page = anonymous.get("/login")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"


def test_it_sends_an_htmx_request_of_an_expired_session_to_sign_in(
    anonymous: TestClient,
) -> None:
    answer = anonymous.get("/customers", headers={"HX-Request": "true"}, follow_redirects=False)
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/login?next=")


def test_it_shows_errors_as_pages(signed_in: SignIn, bob: Person) -> None:
    client = signed_in(bob)
    missing = client.get("/customers/99999999")
    assert missing.status_code == 404
    assert "<html" in missing.text and "Not found" in missing.text
    nowhere = client.get("/no-such-page")
    assert nowhere.status_code == 404 and "<html" in nowhere.text
