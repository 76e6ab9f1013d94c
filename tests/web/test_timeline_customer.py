"""A customer's timeline page and slot: reading, filtering, paging and adding entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.timeline.models import TimelineEntry
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.timeline.helpers import at, make_entry
from tests.web.conftest import form_token

Browse = Callable[..., TestClient]
HTMX = {"HX-Request": "true"}


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TimelineEntry)) or 0


def _form(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "hearing",
        "title": "週次定例のヒアリング",
        "occurred_at": "2025-04-01T10:30",
        "body": "利用部署が**3部署**に拡大",
    } | fields


def test_it_shows_the_slot_and_the_page(
    session: Session, web_client: Browse, charlie: Person, alice: Person
) -> None:
    account = make_account(session)
    make_entry(session, alice.actor, account, title="キックオフのヒアリング")
    viewer = web_client(charlie)
    slot = viewer.get(f"/customers/{account.id}/timeline", headers=HTMX)
    assert slot.status_code == 200
    assert "キックオフのヒアリング" in slot.text and "<html" not in slot.text
    assert 'name="title"' not in slot.text  # a viewer gets no form
    page = viewer.get(f"/customers/{account.id}/timeline")
    assert (
        page.status_code == 200 and "<html" in page.text and "キックオフのヒアリング" in page.text
    )


def test_it_adds_an_entry_in_the_workspace_timezone(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account = make_account(session)
    client = web_client(bob, follow_redirects=False)
    token = form_token(client.get(f"/customers/{account.id}/timeline").text)
    answer = client.post(f"/customers/{account.id}/timeline", data=_form(csrf_token=token))
    assert answer.status_code == 303
    entry = session.scalars(select(TimelineEntry)).one()
    assert answer.headers["location"] == f"/timeline/{entry.id}"
    assert entry.occurred_at == at("2025-04-01", "10:30")
    assert entry.author_id == bob.user.id


def test_it_adds_a_trouble_and_an_interview_through_htmx(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account = make_account(session)
    client = web_client(bob)
    token = form_token(client.get(f"/customers/{account.id}/timeline").text)
    trouble = _form(
        kind="trouble",
        title="ログインできない",
        severity="critical",
        status="open",
        reason_keys="price",
        hypothesis="ignored for troubles",
        csrf_token=token,
    )
    answer = client.post(f"/customers/{account.id}/timeline", data=trouble, headers=HTMX)
    assert answer.status_code == 200 and "ログインできない" in answer.text
    interview = _form(
        kind="cancellation_interview",
        title="解約ヒアリング",
        reason_keys=["price", "competitor"],
        hypothesis="活用が進まなかった",
        improvement="オンボーディング強化",
        severity="low",
        csrf_token=token,
    )
    answer = client.post(f"/customers/{account.id}/timeline", data=interview, headers=HTMX)
    assert answer.status_code == 200
    saved = {e.kind: e for e in session.scalars(select(TimelineEntry))}
    assert saved["trouble"].severity == "critical" and saved["trouble"].hypothesis is None
    assert saved["cancellation_interview"].reason_keys == ["price", "competitor"]
    assert saved["cancellation_interview"].severity is None


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"kind": "gossip"}, "Choose one of the kinds of entry."),
        ({"kind": "trouble", "severity": "urgent", "status": "open"}, "A trouble needs a severity"),
        ({"kind": "trouble", "severity": "", "status": "open"}, "A trouble needs a severity"),
        ({"kind": "cancellation_interview", "reason_keys": "no_such"}, "offered cancellation"),
        ({"body": "あ" * 100_001}, "The text is too long"),
        ({"body": "NUL\x00"}, "The text is too long"),
        ({"title": ""}, "Give the entry a title"),
        ({"occurred_at": "yesterday"}, "Enter the date and time"),
        ({"occurred_at": ""}, "Enter the date and time"),
        ({"contact_id": "99999999"}, "Choose one of this customer"),
        ({"contact_id": "abc"}, "Choose one of this customer"),
        ({"body": "@[幽霊](user:424242)"}, "Check the mentions"),
    ],
)
def test_it_refuses_bad_input_and_keeps_what_was_typed(
    session: Session, web_client: Browse, bob: Person, fields: dict[str, Any], shown: str
) -> None:
    account = make_account(session)
    client = web_client(bob)
    token = form_token(client.get(f"/customers/{account.id}/timeline").text)
    data = _form(title="残しておくタイトル", csrf_token=token) | fields
    answer = client.post(f"/customers/{account.id}/timeline", data=data, headers=HTMX)
    assert answer.status_code == 422
    assert shown in answer.text
    if "title" not in fields:
        assert "残しておくタイトル" in answer.text
    assert _count(session) == 0


def test_it_refuses_another_customers_contact(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account, other = make_account(session), make_account(session, name="別会社")
    stranger = make_contact(session, other)
    client = web_client(bob)
    token = form_token(client.get(f"/customers/{account.id}/timeline").text)
    data = _form(contact_id=str(stranger.id), csrf_token=token)
    answer = client.post(f"/customers/{account.id}/timeline", data=data)
    assert answer.status_code == 422
    assert _count(session) == 0


def test_it_refuses_a_viewer_and_an_unknown_customer(
    session: Session, web_client: Browse, charlie: Person, bob: Person
) -> None:
    account = make_account(session)
    viewer = web_client(charlie)
    token = form_token(viewer.get("/customers").text)
    answer = viewer.post(f"/customers/{account.id}/timeline", data=_form(csrf_token=token))
    assert answer.status_code == 403
    assert _count(session) == 0
    writer = web_client(bob)
    assert writer.get("/customers/2000000000/timeline").status_code == 404


def test_it_filters_by_kind_and_pages_to_older_entries(
    session: Session, web_client: Browse, alice: Person, charlie: Person
) -> None:
    account = make_account(session)
    for day in range(1, 32):
        make_entry(
            session,
            alice.actor,
            account,
            title=f"ヒアリング{day:02d}",
            occurred_at=at("2025-05-01").replace(day=day),
        )
    make_entry(
        session,
        alice.actor,
        account,
        kind="trouble",
        title="障害報告",
        occurred_at=at("2025-04-01"),
    )
    viewer = web_client(charlie)
    first = viewer.get(f"/customers/{account.id}/timeline", headers=HTMX)
    assert "ヒアリング31" in first.text and "障害報告" not in first.text
    link = [part.split('"', 1)[0] for part in first.text.split('href="') if "before=" in part]
    assert link, "an older link is offered"
    second = viewer.get(link[0].replace("&amp;", "&"), headers=HTMX)
    assert "障害報告" in second.text and "ヒアリング31" not in second.text
    troubles = viewer.get(f"/customers/{account.id}/timeline?kind=trouble", headers=HTMX)
    assert "障害報告" in troubles.text and "ヒアリング01" not in troubles.text
    bad = viewer.get(f"/customers/{account.id}/timeline?before=garbage", headers=HTMX)
    assert bad.status_code == 422
