from __future__ import annotations

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.tasks.service import get_task
from tests.conftest import Person
from tests.factories import make_account
from tests.tasks.factories import make_task
from tests.web.conftest import Browse, form_token


def test_viewers_read_but_cannot_change(
    session: Session, actor: Actor, charlie: Person, web_client: Browse
) -> None:
    account = make_account(session)
    task = make_task(session, actor, account_id=account.id)
    client = web_client(charlie)
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and f'action="/tasks/{task.id}"' not in page.text
    token = form_token(page.text)
    for url in (
        f"/tasks/{task.id}",
        f"/tasks/{task.id}/status",
        f"/tasks/{task.id}/delete",
        "/tasks",
        f"/customers/{account.id}/tasks",
    ):
        assert (
            client.post(
                url,
                data={
                    "csrf_token": token,
                    "status": "done",
                    "title": "x",
                    "version": "1",
                    "confirm": "yes",
                },
            ).status_code
            == 403
        )
    assert get_task(session, task.id).status == "open"
