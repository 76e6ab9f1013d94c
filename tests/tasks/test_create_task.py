from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.service import Actor, history
from banso.documents.service import history as revisions
from banso.errors import InvalidInput, PermissionDenied
from banso.search.models import DocumentSearch
from banso.tasks.schemas import TaskIn
from banso.tasks.service import create_task
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.tasks.factories import make_item, make_meeting, make_task


def test_it_creates_a_task_with_history_audit_and_search(
    session: Session, actor: Actor, bob: Person
) -> None:
    account = make_account(session)
    contact = make_contact(session, account)
    task = make_task(
        session,
        actor,
        title="解約理由のヒアリング",
        description="**先方**の課題を確認",
        owner_type="joint",
        assignee_id=bob.user.id,
        contact_id=contact.id,
        due_date=date(2026, 12, 1),
        account_id=account.id,
    )
    assert task.id and task.version == 1 and task.status == "open"
    assert task.created_by_id == actor.user_id
    assert [a.action for a in history(session, "task", task.id)] == ["create"]
    [first] = revisions(session, "task", task.id)
    assert first.fields == {"title": "解約理由のヒアリング", "description": "**先方**の課題を確認"}
    row = session.scalar(select(DocumentSearch).where(DocumentSearch.kind == "task"))
    assert row is not None and row.ref_id == task.id and row.url == f"/tasks/{task.id}"
    assert row.account_id == account.id and row.title == "解約理由のヒアリング"


def test_it_sets_completed_at_for_a_task_created_done(session: Session, actor: Actor) -> None:
    assert make_task(session, actor, status="done").completed_at is not None
    assert make_task(session, actor).completed_at is None


def test_it_takes_the_account_and_meeting_from_the_agenda_item(
    session: Session, actor: Actor
) -> None:
    account = make_account(session)
    meeting = make_meeting(session, account)
    item = make_item(session, meeting)
    task = make_task(session, actor, source="meeting", meeting_item_id=item.id)
    assert (task.meeting_id, task.account_id) == (meeting.id, account.id)


def _refused(session: Session, actor: Actor, **fields: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        make_task(session, actor, **fields)
    return {e.field: e.message for e in caught.value.errors}


def test_it_refuses_unknown_references(session: Session, actor: Actor) -> None:
    errors = _refused(
        session,
        actor,
        account_id=999_999,
        assignee_id=999_999,
        meeting_id=999_999,
        meeting_item_id=999_999,
    )
    assert set(errors) == {"account_id", "assignee_id", "meeting_id", "meeting_item_id"}
    assert "account 999999 does not exist" in errors["account_id"]
    assert _refused(session, actor, contact_id=999_999) == {
        "contact_id": "contact 999999 does not exist"
    }


def test_it_refuses_a_contact_of_another_account(session: Session, actor: Actor) -> None:
    ours, theirs = make_account(session), make_account(session, name="別会社")
    contact = make_contact(session, theirs)
    errors = _refused(session, actor, account_id=ours.id, contact_id=contact.id)
    assert f"belongs to account {theirs.id}, not account {ours.id}" in errors["contact_id"]
    assert "contact_id" in _refused(session, actor, contact_id=contact.id)  # no account at all


def test_it_refuses_a_meeting_of_another_account(session: Session, actor: Actor) -> None:
    ours, theirs = make_account(session), make_account(session, name="別会社")
    meeting = make_meeting(session, theirs)
    other_meeting = make_meeting(session, ours)
    item = make_item(session, other_meeting)
    errors = _refused(session, actor, account_id=ours.id, meeting_id=meeting.id)
    assert f"is with account {theirs.id}" in errors["meeting_id"]
    errors = _refused(session, actor, meeting_id=meeting.id, meeting_item_id=item.id)
    assert f"belongs to meeting {other_meeting.id}" in errors["meeting_item_id"]


def test_it_refuses_a_deactivated_assignee(session: Session, actor: Actor, bob: Person) -> None:
    bob.user.is_active = False
    session.flush()
    assert "deactivated" in _refused(session, actor, assignee_id=bob.user.id)["assignee_id"]


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"owner_type": "vendor"}, "owner_type"),
        ({"status": "someday"}, "status"),
        ({"source": "email"}, "source"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"description": "長" * 100_001}, "description"),
        ({"due_date": "2026-13-01"}, "due_date"),
        ({"assignee_id": 0}, "assignee_id"),
        ({"assignee_id": 2**31}, "assignee_id"),
        ({"source_ref": "x" * 101}, "source_ref"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_it_refuses_bad_shapes(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TaskIn(**{"title": "確認", **fields})
    assert where in {str(e["loc"][0]) for e in caught.value.errors()}


def test_viewers_cannot_create(session: Session, charlie: Person) -> None:
    with pytest.raises(PermissionDenied):
        create_task(session, charlie.actor, TaskIn(title="見るだけ"))
