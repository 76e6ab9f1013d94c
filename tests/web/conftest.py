"""Fixtures for the pages: browsers (test clients) signed in through the real sign-in form."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.auth.service import hash_password
from banso.web.security import SESSION_COOKIE, start_session
from tests.conftest import Person

PASSWORD = "correct horse battery staple"
SignIn = Callable[[Person], TestClient]
Browse = Callable[..., TestClient]


def form_token(page_html: str) -> str:
    """The CSRF token a page gives its forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page_html)
    assert found, "the page has a form token"
    return found.group(1)


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Accept-Language": "en"}) as client:
        yield client


@pytest.fixture
def signed_in(app: FastAPI, session: Session) -> Iterator[SignIn]:
    """``signed_in(bob)``: a client that signed in as bob with the sign-in form."""
    clients: list[TestClient] = []

    def sign_in(person: Person) -> TestClient:
        if person.user.password_hash is None:
            person.user.password_hash = hash_password(PASSWORD)
            session.flush()
        client = TestClient(app, headers={"Accept-Language": "en"})
        clients.append(client)
        token = form_token(client.get("/login").text)
        answer = client.post(
            "/login",
            data={"email": person.user.email, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return client

    yield sign_in
    for client in clients:
        client.close()


@pytest.fixture
def web_client(app: FastAPI, session: Session) -> Iterator[Browse]:
    """``web_client(bob)``: a client with a signed-in session of bob's (made directly, without
    the form: quicker than a password check); ``web_client(None)`` is a visitor. English UI."""
    clients: list[TestClient] = []

    def make(person: Person | None, follow_redirects: bool = True) -> TestClient:
        cookies = {}
        if person is not None:
            _row, cookie = start_session(session, app.state.settings, person.user)
            session.flush()
            cookies[SESSION_COOKIE] = cookie
        client = TestClient(
            app,
            follow_redirects=follow_redirects,
            headers={"Accept-Language": "en"},
            cookies=cookies,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
