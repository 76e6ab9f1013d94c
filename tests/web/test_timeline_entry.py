"""One entry's page: safe Markdown, mentions, history, editing with merge, and deleting."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.timeline.models import TimelineEntry
from banso.timeline.schemas import EntryPatch
from banso.timeline.service import update_entry
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.timeline.helpers import make_entry
from tests.web.conftest import form_token

Browse = Callable[..., TestClient]
BODY = "背景: 現場主導で導入\n課題: 管理職が使っていない\n宿題: 操作説明会の日程\n"


def test_it_shows_safe_markdown_mentions_and_history(
    session: Session, web_client: Browse, alice: Person, charlie: Person
) -> None:
    account = make_account(session)
    contact = make_contact(session, account, name="鈴木 一郎")
    hostile = (
        f"**重要** @[鈴木 一郎](contact:{contact.id})\n\n<script>alert(1)</script>\n\n"
        "[click](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    entry = make_entry(session, alice.actor, account, body=hostile)
    page = web_client(charlie).get(f"/timeline/{entry.id}")
    assert page.status_code == 200
    assert "<strong>重要</strong>" in page.text
    assert 'data-mention="contact:' in page.text and "鈴木 一郎" in page.text
    assert "<script>alert" not in page.text
    assert 'href="javascript' not in page.text.lower()
    assert "<img" not in page.text and "&lt;img" in page.text
    assert "Version 1" in page.text
    assert 'action="/timeline/' not in page.text  # a viewer gets no edit form


def test_it_saves_an_edit(session: Session, web_client: Browse, alice: Person, bob: Person) -> None:
    entry = make_entry(session, alice.actor, make_account(session), kind="trouble", body=BODY)
    client = web_client(bob, follow_redirects=False)
    token = form_token(client.get(f"/timeline/{entry.id}").text)
    data = {
        "csrf_token": token,
        "version": "1",
        "title": "障害（解決済み）",
        "body": BODY,
        "occurred_at": "2025-04-01T10:00",
        "severity": "high",
        "status": "resolved",
        "resolution": "キャッシュを削除して解消",
        "resolved_at": "2025-04-01T15:30",
    }
    answer = client.post(f"/timeline/{entry.id}", data=data)
    assert answer.status_code == 303
    assert (entry.version, entry.status) == (2, "resolved")
    page = client.get(f"/timeline/{entry.id}").text
    assert "5 hours" in page and "Version 2" in page


def test_it_offers_a_merge_on_a_concurrent_edit_and_loses_nothing(
    session: Session, web_client: Browse, alice: Person, bob: Person
) -> None:
    entry = make_entry(session, alice.actor, make_account(session), body=BODY)
    client = web_client(bob, follow_redirects=False)
    token = form_token(client.get(f"/timeline/{entry.id}").text)
    update_entry(
        session,
        alice.actor,
        entry.id,
        EntryPatch(version=1, body=BODY.replace("現場主導", "経営主導")),
    )
    session.commit()
    mine = BODY.replace("操作説明会の日程", "操作説明会を5/20に実施")
    data = {
        "csrf_token": token,
        "version": "1",
        "title": entry.title,
        "body": mine,
        "occurred_at": "2025-04-01T10:00",
    }
    answer = client.post(f"/timeline/{entry.id}", data=data)
    assert answer.status_code == 409
    assert "Someone else saved this" in answer.text
    assert 'name="version" value="2"' in answer.text
    assert "経営主導" in answer.text and "操作説明会を5/20に実施" in answer.text
    assert answer.text.count('name="body"') == 1  # the merge's textarea, not a second one
    assert entry.body == BODY.replace("現場主導", "経営主導")  # mine is not written yet
    merged = BODY.replace("現場主導", "経営主導").replace(
        "操作説明会の日程", "操作説明会を5/20に実施"
    )
    again = client.post(f"/timeline/{entry.id}", data=data | {"version": "2", "body": merged})
    assert again.status_code == 303
    assert "経営主導" in entry.body and "5/20" in entry.body


def test_it_refuses_a_bad_edit(
    session: Session, web_client: Browse, alice: Person, bob: Person
) -> None:
    entry = make_entry(session, alice.actor, make_account(session), kind="trouble")
    client = web_client(bob)
    token = form_token(client.get(f"/timeline/{entry.id}").text)
    base = {
        "csrf_token": token,
        "version": "1",
        "title": "x",
        "occurred_at": "2025-04-01T10:00",
        "severity": "high",
        "status": "open",
    }
    for bad in (
        {"severity": "urgent"},
        {"status": "resolved"},
        {"body": "\x00"},
        {"version": "abc"},
        {"resolved_at": "2025-04-02T10:00"},
    ):
        answer = client.post(f"/timeline/{entry.id}", data=base | bad)
        assert answer.status_code == 422, bad
    assert entry.version == 1
    assert client.post("/timeline/2000000000", data=base).status_code == 404


def test_it_deletes_only_after_confirmation(
    session: Session, web_client: Browse, alice: Person, bob: Person, charlie: Person
) -> None:
    account = make_account(session)
    entry = make_entry(session, alice.actor, account)
    viewer = web_client(charlie)
    viewer_token = form_token(viewer.get("/customers").text)
    refused = viewer.post(
        f"/timeline/{entry.id}/delete", data={"csrf_token": viewer_token, "confirm": "yes"}
    )
    assert refused.status_code == 403
    client = web_client(bob, follow_redirects=False)
    token = form_token(client.get(f"/timeline/{entry.id}").text)
    unconfirmed = client.post(f"/timeline/{entry.id}/delete", data={"csrf_token": token})
    assert unconfirmed.headers["location"] == f"/timeline/{entry.id}?delete=1"
    assert "Delete this entry?" in client.get(f"/timeline/{entry.id}?delete=1").text
    assert session.get(TimelineEntry, entry.id) is not None
    done = client.post(f"/timeline/{entry.id}/delete", data={"csrf_token": token, "confirm": "yes"})
    assert done.headers["location"] == f"/customers/{account.id}/timeline"
    session.expire_all()
    assert session.get(TimelineEntry, entry.id) is None
    assert client.get(f"/timeline/{entry.id}").status_code == 404
