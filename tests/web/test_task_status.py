from __future__ import annotations

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from tests.conftest import Person
from tests.tasks.factories import make_task
from tests.web.conftest import Browse, form_token


def test_quick_status_buttons_work_with_and_without_htmx(
    session: Session, actor: Actor, bob: Person, web_client: Browse
) -> None:
    task = make_task(session, actor, title="電話する", assignee_id=bob.user.id)
    client = web_client(bob)
    token = form_token(client.get("/tasks").text)
    row = client.post(
        f"/tasks/{task.id}/status",
        data={"csrf_token": token, "status": "done"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200 and row.text.lstrip().startswith(f'<tr id="task-{task.id}"')
    plain = client.post(
        f"/tasks/{task.id}/status",
        data={"csrf_token": token, "status": "open", "next": "/tasks?scope=all"},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/tasks?scope=all"
    elsewhere = client.post(
        f"/tasks/{task.id}/status",
        data={"csrf_token": token, "status": "done", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == f"/tasks/{task.id}"
    bad = client.post(f"/tasks/{task.id}/status", data={"csrf_token": token, "status": "later"})
    assert bad.status_code == 422
