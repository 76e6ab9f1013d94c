"""Every page route, walked: who may see it, who may change through it, and the form token.

Three people try every route: one who may (bob, a CSM, or alice, an admin, for admin pages),
one who may not change anything (charlie, a viewer), and a visitor with no account. A new
route is covered by being registered; it needs a value for its path parameters below.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.app import WEB_ROUTERS
from banso.health.definitions import standard_scorecard
from banso.health.service import save_scorecard
from banso.segments.models import Segment
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.knowledge.factories import make_page
from tests.meetings.factories import make_item, make_meeting
from tests.observations.factories import make_moment, make_session
from tests.tasks.factories import make_task
from tests.timeline.helpers import make_entry
from tests.web.conftest import SignIn, form_token

# Routes anyone may use, signed in or not.
OPEN = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"),
        ("POST", "/language")}  # fmt: skip
# Routes that change nothing although they are POSTs: none today.
READ_ONLY_POSTS: set[tuple[str, str]] = set()
# Pages outside /admin that only managers and admins may see.
MANAGER_PAGES = {"/health/backtest"}


def page_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) of every page route the app serves (WEB_ROUTERS)."""
    found = []
    for module_name in WEB_ROUTERS:
        for route in importlib.import_module(module_name).router.routes:
            if isinstance(route, APIRoute):
                found.extend((method, route.path, route) for method in sorted(route.methods))
    assert len(found) > 20, "the page routes were found"
    return found


@pytest.fixture
def ids(session: Session, alice: Person) -> dict[str, Any]:
    first = make_account(session, name="権限テスト株式会社")
    second = make_account(session, name="権限テスト(株)")
    contact = make_contact(session, first, name="山田 太郎")
    segment = Segment(name="権限テスト", view={"q": "権限"}, created_by_id=alice.user.id)
    session.add(segment)
    session.flush()
    card, _ = save_scorecard(session, alice.actor, standard_scorecard())
    return {
        "account_id": first.id,
        "contact_id": contact.id,
        "source": second.id,
        "target": first.id,
        "kind": "accounts",
        "segment_id": segment.id,
        "user_id": alice.user.id,
        "field_id": 1,
        "key": "lead",
        "token_id": 1,
        "key_id": 1,
        "card_key": card.key,
        "task_id": make_task(session, alice.actor, account_id=first.id).id,
        "slug": make_page(session, alice.actor, slug="permissions").slug,
        "page_version": 1,
        "observation_id": (observation := make_session(session, alice.actor, first)).id,
        "moment_id": make_moment(session, alice.actor, observation).id,
        "meeting_id": (meeting := make_meeting(session, alice.actor, first)).id,
        "item_id": make_item(session, alice.actor, meeting).id,
        "review_id": 1,
        "entry_id": make_entry(session, alice.actor, first).id,
    }


def url_of(path: str, ids: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "name":
            return "usage" if "/slots/" in path else "industry"
        if name not in ids:
            pytest.fail(f"give the path parameter {name!r} of {path} a value in ids()")
        return str(ids[name])

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def is_admin_route(path: str) -> bool:
    return path.startswith("/admin")


def test_it_sends_a_visitor_without_an_account_to_sign_in(
    app: FastAPI, anonymous: TestClient, ids: dict[str, Any]
) -> None:
    token = form_token(anonymous.get("/login").text)
    for method, path, _route in page_routes(app):
        if (method, path) in OPEN:
            continue
        url = url_of(path, ids)
        if method == "GET":
            answer = anonymous.get(url, follow_redirects=False)
        else:
            answer = anonymous.request(method, url, data={"csrf_token": token},
                                       follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/login?next="), (method, path)


def test_it_refuses_every_change_to_a_viewer(
    app: FastAPI, signed_in: SignIn, charlie: Person, ids: dict[str, Any]
) -> None:
    viewer = signed_in(charlie)
    token = form_token(viewer.get("/customers").text)
    walked = 0
    for method, path, _route in page_routes(app):
        if method == "GET" or (method, path) in OPEN | READ_ONLY_POSTS:
            continue
        answer = viewer.request(method, url_of(path, ids), data={"csrf_token": token},
                                follow_redirects=False)  # fmt: skip
        assert answer.status_code == 403, (method, path, answer.status_code)
        walked += 1
    assert walked >= 8


def test_it_lets_a_viewer_see_the_pages(
    app: FastAPI, signed_in: SignIn, charlie: Person, ids: dict[str, Any]
) -> None:
    viewer = signed_in(charlie)
    for method, path, _route in page_routes(app):
        if method != "GET" or (method, path) in OPEN or is_admin_route(path):
            continue
        if path.endswith("/edit/{name}"):
            continue  # an edit form: refused to viewers, checked below
        if path in MANAGER_PAGES:
            assert viewer.get(path).status_code == 403, path
            continue
        answer = viewer.get(url_of(path, ids), follow_redirects=False)
        # A partial asked for without HTMX leads to its page.
        assert answer.status_code in (200, 303), (path, answer.status_code, answer.text[:300])
        assert not answer.headers.get("location", "").startswith("/login"), path
    edit = viewer.get(url_of("/customers/{account_id}/edit/{name}", ids))
    assert edit.status_code == 403


def test_it_keeps_admin_pages_from_everyone_but_admins(
    app: FastAPI, signed_in: SignIn, bob: Person, charlie: Person, ids: dict[str, Any]
) -> None:
    admin_routes = [(m, p) for m, p, _ in page_routes(app) if is_admin_route(p)]
    if not admin_routes:
        pytest.skip("no admin pages registered")
    for person in (bob, charlie):
        client = signed_in(person)
        token = form_token(client.get("/customers").text)
        for method, path in admin_routes:
            if path.startswith("/admin/audit") or path == "/admin":
                continue  # managers and above; a CSM and a viewer are refused below anyway
            answer = client.request(method, url_of(path, ids), data={"csrf_token": token},
                                    follow_redirects=False)  # fmt: skip
            assert answer.status_code == 403, (person.user.role, method, path)


def test_it_refuses_a_change_without_the_form_token(
    app: FastAPI, signed_in: SignIn, alice: Person, ids: dict[str, Any]
) -> None:
    admin = signed_in(alice)
    for method, path, _route in page_routes(app):
        if method == "GET" or path == "/login":
            continue
        url = url_of(path, ids)
        missing = admin.request(method, url, data={"name": "x"}, follow_redirects=False)
        assert missing.status_code == 403, (method, path, missing.status_code)
        forged = admin.request(method, url, data={"csrf_token": "0" * 64},
                               follow_redirects=False)  # fmt: skip
        assert forged.status_code == 403, (method, path)
        assert "reload the page" in forged.text
    # Signed in still: the refusals did nothing to the session.
    assert admin.get("/customers").status_code == 200


def test_it_does_not_accept_a_token_from_another_session(
    signed_in: SignIn, alice: Person, bob: Person, ids: dict[str, Any]
) -> None:
    bobs_token = form_token(signed_in(bob).get("/customers").text)
    admin = signed_in(alice)
    answer = admin.post(
        f"/customers/{ids['account_id']}/contacts",
        data={"name": "なりすまし", "csrf_token": bobs_token},
        follow_redirects=False,
    )
    assert answer.status_code == 403
