"""TODOs said in the meeting become tasks from the item's small form."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from banso.meetings import service
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.meetings.factories import make_item, make_meeting
from tests.web.conftest import Browse, form_token


def test_it_turns_a_todo_into_a_task_shown_on_the_item(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account = make_account(session)
    contact = make_contact(session, account, name="佐藤 花子")
    meeting = make_meeting(session, bob.actor, account)
    item = make_item(session, bob.actor, meeting)
    client = web_client(bob)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    answer = client.post(
        f"/meetings/{meeting.id}/items/{item.id}/todos",
        headers={"HX-Request": "true"},
        data={
            "csrf_token": token,
            "title": "利用者リストの共有",
            "owner_type": "customer",
            "contact_id": contact.id,
            "assignee_id": "",
            "due_date": "2025-07-10",
        },
    )
    assert answer.status_code == 200 and "<html" not in answer.text
    assert "利用者リストの共有" in answer.text and "佐藤 花子" in answer.text
    (task,) = service.tasks_of(session, meeting.id)[item.id]
    assert (task.owner_type, task.contact_id, task.due_date) == (
        "customer",
        contact.id,
        date(2025, 7, 10),
    )
    assert task.source == "meeting" and task.account_id == account.id


def test_it_refuses_bad_todos(session: Session, web_client: Browse, bob: Person) -> None:
    account = make_account(session)
    meeting = make_meeting(session, bob.actor, account)
    item = make_item(session, bob.actor, meeting)
    client = web_client(bob)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    url = f"/meetings/{meeting.id}/items/{item.id}/todos"
    for data in (
        {"title": ""},
        {"title": "x", "owner_type": "they"},
        {"title": "x", "due_date": "来週"},
        {"title": "x", "assignee_id": "999999"},
        {"title": "x", "assignee_id": "bob"},
    ):
        answer = client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == 422, data
    missing = client.post(
        f"/meetings/{meeting.id}/items/999999/todos", data={"csrf_token": token, "title": "x"}
    )
    assert missing.status_code == 404
    assert service.tasks_of(session, meeting.id) == {}
