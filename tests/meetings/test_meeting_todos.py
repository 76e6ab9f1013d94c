from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from banso.errors import InvalidInput, NotFound, PermissionDenied
from banso.meetings import service
from banso.meetings.schemas import TodoIn, parse
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.meetings.factories import make_item, make_meeting


def test_it_turns_a_todo_into_a_task_linked_to_the_meeting_and_item(
    session: Session, bob: Person
) -> None:
    account = make_account(session)
    meeting = make_meeting(session, bob.actor, account)
    item = make_item(session, bob.actor, meeting)
    task = service.add_todo(
        session,
        bob.actor,
        meeting.id,
        item.id,
        TodoIn(
            title="新担当者向け説明会の日程調整",
            owner_type="joint",
            assignee_id=bob.user.id,
            due_date=date(2025, 6, 20),
        ),
    )
    assert task.account_id == account.id
    assert (task.meeting_id, task.meeting_item_id) == (meeting.id, item.id)
    assert (task.source, task.owner_type, task.status) == ("meeting", "joint", "open")
    assert task.due_date == date(2025, 6, 20)
    assert service.tasks_of(session, meeting.id) == {item.id: [task]}


def test_it_gives_a_customer_todo_to_their_contact(session: Session, bob: Person) -> None:
    account = make_account(session)
    contact = make_contact(session, account, name="佐藤 花子")
    meeting = make_meeting(session, bob.actor, account)
    item = make_item(session, bob.actor, meeting)
    task = service.add_todo(
        session,
        bob.actor,
        meeting.id,
        item.id,
        TodoIn(
            title="社内の利用者リストを共有",
            owner_type="customer",
            contact_id=contact.id,
        ),
    )
    assert task.contact_id == contact.id and task.owner_type == "customer"


def test_it_refuses_bad_todos(session: Session, bob: Person, charlie: Person) -> None:
    account = make_account(session)
    other = make_account(session, name="別の会社")
    stranger = make_contact(session, other, name="他社 太郎")
    meeting = make_meeting(session, bob.actor, account)
    item = make_item(session, bob.actor, meeting)
    with pytest.raises(InvalidInput) as caught:
        parse(TodoIn, {"title": "x", "owner_type": "them"})
    assert caught.value.errors[0].field == "owner_type"
    with pytest.raises(InvalidInput) as caught:
        parse(TodoIn, {"title": "", "owner_type": "us"})
    assert caught.value.errors[0].field == "title"
    with pytest.raises(InvalidInput) as caught:
        parse(TodoIn, {"title": "x", "due_date": "2025-13-01"})
    assert caught.value.errors[0].field == "due_date"
    with pytest.raises(InvalidInput):
        service.add_todo(
            session, bob.actor, meeting.id, item.id, TodoIn(title="x", assignee_id=999_999)
        )
    with pytest.raises(InvalidInput):
        service.add_todo(
            session, bob.actor, meeting.id, item.id, TodoIn(title="x", contact_id=stranger.id)
        )
    with pytest.raises(NotFound):
        service.add_todo(session, bob.actor, meeting.id, 999_999, TodoIn(title="x"))
    with pytest.raises(PermissionDenied):
        service.add_todo(session, charlie.actor, meeting.id, item.id, TodoIn(title="x"))
    assert service.tasks_of(session, meeting.id) == {}
