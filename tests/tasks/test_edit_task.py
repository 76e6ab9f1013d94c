from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.service import Actor, history
from banso.documents.service import EditConflict
from banso.documents.service import history as revisions
from banso.errors import ConfirmationRequired, InvalidInput, NotFound, PermissionDenied
from banso.search.models import DocumentSearch
from banso.tasks.schemas import TaskPatch
from banso.tasks.service import delete_task, get_task, set_status, update_task
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.tasks.factories import make_task


def _patch(version: int, **fields: Any) -> TaskPatch:
    return TaskPatch(version=version, **fields)


def test_it_saves_changes_with_a_revision_and_reindexes(session: Session, actor: Actor) -> None:
    task = make_task(session, actor, description="一行目\n")
    update_task(
        session, actor, task.id, _patch(1, title="見積を送る", description="一行目\n二行目\n")
    )
    assert (task.title, task.version) == ("見積を送る", 2)
    assert [r.version for r in revisions(session, "task", task.id)] == [2, 1]
    assert [a.action for a in history(session, "task", task.id)] == ["create", "update"]
    row = session.scalar(select(DocumentSearch).where(DocumentSearch.ref_id == task.id))
    assert row is not None and row.title == "見積を送る"


def test_a_stale_version_gives_a_merge_and_writes_nothing(session: Session, actor: Actor) -> None:
    task = make_task(session, actor, description="背景\n課題\n")
    update_task(session, actor, task.id, _patch(1, description="背景(更新)\n課題\n"))
    with pytest.raises(EditConflict) as caught:
        update_task(session, actor, task.id, _patch(1, description="背景\n課題(追記)\n"))
    conflict = caught.value
    assert conflict.current_version == 2
    [merge] = conflict.fields
    assert merge.clean and merge.merged == "背景(更新)\n課題(追記)\n"
    assert task.description == "背景(更新)\n課題\n"


def test_done_sets_completed_at_and_reopening_clears_it(session: Session, actor: Actor) -> None:
    task = make_task(session, actor)
    set_status(session, actor, task.id, "done")
    assert task.status == "done" and task.completed_at is not None
    set_status(session, actor, task.id, "open")
    assert task.status == "open" and task.completed_at is None


def test_it_refuses_bad_edits(session: Session, actor: Actor) -> None:
    account, other = make_account(session), make_account(session, name="別会社")
    task = make_task(session, actor, account_id=account.id)
    contact = make_contact(session, other)
    with pytest.raises(InvalidInput) as caught:
        update_task(session, actor, task.id, _patch(1, contact_id=contact.id))
    assert "contact_id" in str(caught.value)
    with pytest.raises(InvalidInput):
        update_task(session, actor, task.id, _patch(1, assignee_id=999_999))
    with pytest.raises(InvalidInput):
        set_status(session, actor, task.id, "someday")
    with pytest.raises(NotFound):
        update_task(session, actor, 999_999, _patch(1, title="x"))
    for bad in ({"title": None}, {"owner_type": "vendor"}, {"description": "x" * 100_001}):
        with pytest.raises(ValidationError):
            _patch(1, **bad)
    assert task.version == 1


def test_delete_asks_for_confirmation_then_forgets(session: Session, actor: Actor) -> None:
    task = make_task(session, actor)
    with pytest.raises(ConfirmationRequired):
        delete_task(session, actor, task.id, confirm=False)
    delete_task(session, actor, task.id, confirm=True)
    with pytest.raises(NotFound):
        get_task(session, task.id)
    assert session.scalar(select(DocumentSearch).where(DocumentSearch.ref_id == task.id)) is None
    assert revisions(session, "task", task.id) == []


def test_viewers_cannot_change_tasks(session: Session, actor: Actor, charlie: Person) -> None:
    task = make_task(session, actor)
    with pytest.raises(PermissionDenied):
        set_status(session, charlie.actor, task.id, "done")
    with pytest.raises(PermissionDenied):
        delete_task(session, charlie.actor, task.id, confirm=True)
