from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.documents.service import history
from banso.errors import InvalidInput, PermissionDenied
from banso.knowledge.schemas import PageIn
from banso.knowledge.service import create_page
from banso.meetings import service
from banso.meetings.schemas import MeetingIn, parse
from banso.search.models import DocumentSearch
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import WHEN, make_meeting


def test_it_creates_a_planned_meeting_owned_by_its_writer(session: Session, bob: Person) -> None:
    account = make_account(session)
    meeting = make_meeting(
        session,
        bob.actor,
        account,
        title="四半期レビュー",
        location="先方オフィス",
        purpose="**更新**に向けた課題の確認",
        attendees="山田様、佐藤様",
    )
    assert meeting.status == "planned"
    assert meeting.owner_id == bob.user.id
    assert meeting.scheduled_at == WHEN
    assert [r.version for r in history(session, "meeting", meeting.id)] == [1]
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "meeting", AuditEntry.entity_id == meeting.id)
    ).all()
    assert [a.action for a in audit] == ["create"]


def test_it_turns_a_local_date_and_time_into_an_aware_moment() -> None:
    moment = service.local_moment(date(2025, 6, 10), time(10, 0), "Asia/Tokyo")
    assert moment.utcoffset() is not None
    assert moment.isoformat() == "2025-06-10T10:00:00+09:00"


def test_it_indexes_the_meeting_for_search(session: Session, bob: Person) -> None:
    account = make_account(session)
    meeting = make_meeting(session, bob.actor, account, purpose="解約リスクの確認")
    row = session.scalar(
        select(DocumentSearch).where(
            DocumentSearch.kind == "meeting", DocumentSearch.ref_id == meeting.id
        )
    )
    assert row is not None
    assert row.url == f"/meetings/{meeting.id}"
    assert "解約リスク" in row.body


def test_it_starts_the_agenda_from_a_knowledge_template(session: Session, alice: Person) -> None:
    page = create_page(
        session,
        alice.actor,
        PageIn(
            title="定例会テンプレート",
            kind="template",
            body="はじめに\n\n## 利用状況\nログイン率は横ばいのはず\n\n"
            "## 次回の提案\nオプション追加を提案する\n",
        ),
    )
    account = make_account(session)
    meeting = make_meeting(session, alice.actor, account, template_page_id=page.id)
    items = service.items_of(session, meeting.id)
    assert [(i.topic, i.hypothesis.strip()) for i in items] == [
        ("利用状況", "ログイン率は横ばいのはず"),
        ("次回の提案", "オプション追加を提案する"),
    ]
    assert meeting.template_page_id == page.id


def test_it_refuses_a_page_that_is_no_template(session: Session, alice: Person) -> None:
    page = create_page(session, alice.actor, PageIn(title="行動指針", body="## 一つ目\n本文"))
    account = make_account(session)
    with pytest.raises(InvalidInput) as caught:
        make_meeting(session, alice.actor, account, template_page_id=page.id)
    assert caught.value.errors[0].field == "template_page_id"


def test_it_refuses_an_unknown_template(session: Session, alice: Person) -> None:
    account = make_account(session)
    with pytest.raises(InvalidInput) as caught:
        make_meeting(session, alice.actor, account, template_page_id=999_999)
    assert caught.value.errors[0].field == "template_page_id"


def test_it_refuses_an_unknown_account(session: Session, alice: Person) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_meeting(
            session,
            alice.actor,
            MeetingIn(account_id=999_999, title="x", scheduled_at=WHEN),
        )
    assert caught.value.errors[0].field == "account_id"


def test_it_refuses_a_viewer(session: Session, charlie: Person) -> None:
    account = make_account(session)
    with pytest.raises(PermissionDenied):
        make_meeting(session, charlie.actor, account)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "", "scheduled_at": WHEN}, "title"),
        ({"title": "x" * 301, "scheduled_at": WHEN}, "title"),
        ({"title": "ok", "scheduled_at": datetime(2025, 6, 10, 10)}, "scheduled_at"),
        ({"title": "ok", "scheduled_at": "yesterday"}, "scheduled_at"),
        ({"title": "ok", "scheduled_at": WHEN, "purpose": "あ" * 20_001}, "purpose"),
        ({"title": "ok", "scheduled_at": WHEN, "owner_id": 0}, "owner_id"),
        ({"title": "ok", "scheduled_at": WHEN, "purpose": "a\x00b"}, "purpose"),
    ],
)
def test_it_says_which_field_is_wrong(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(MeetingIn, {"account_id": 1, **data})
    assert caught.value.errors[0].field == field


def test_it_refuses_an_owner_who_does_not_exist(session: Session, alice: Person) -> None:
    account = make_account(session)
    with pytest.raises(InvalidInput) as caught:
        make_meeting(session, alice.actor, account, owner_id=999_999)
    assert caught.value.errors[0].field == "owner_id"


def test_it_leaves_a_command_line_meeting_without_an_owner(session: Session) -> None:
    account = make_account(session)
    meeting = make_meeting(session, Actor(label="cli"), account)
    assert meeting.owner_id is None
