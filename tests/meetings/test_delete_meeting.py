from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.documents.service import history
from banso.errors import ConfirmationRequired, NotFound
from banso.meetings import service
from banso.meetings.schemas import TodoIn
from banso.search.models import DocumentSearch
from banso.tasks.models import Task
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting


def test_it_deletes_a_meeting_once_confirmed_and_keeps_its_tasks(
    session: Session, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting)
    task = service.add_todo(session, bob.actor, meeting.id, item.id, TodoIn(title="資料送付"))
    with pytest.raises(ConfirmationRequired) as caught:
        service.delete_meeting(session, bob.actor, meeting.id, confirm=False)
    assert caught.value.impact == {"items": 1, "tasks_unlinked": 1}
    service.delete_meeting(session, bob.actor, meeting.id, confirm=True)
    session.expire_all()
    with pytest.raises(NotFound):
        service.get_meeting(session, meeting.id)
    assert history(session, "meeting", meeting.id) == []
    assert (
        session.scalar(
            select(DocumentSearch).where(
                DocumentSearch.kind == "meeting", DocumentSearch.ref_id == meeting.id
            )
        )
        is None
    )
    kept = session.get(Task, task.id)
    assert kept is not None and kept.meeting_id is None
