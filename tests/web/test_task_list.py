from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from tests.conftest import Person
from tests.tasks.factories import make_task
from tests.web.conftest import Browse, form_token


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


def test_it_shows_my_tasks_overdue_first_with_days_overdue(
    session: Session, actor: Actor, bob: Person, web_client: Browse
) -> None:
    today = _today()
    make_task(
        session,
        actor,
        title="来週の準備",
        assignee_id=bob.user.id,
        due_date=today + timedelta(days=7),
    )
    make_task(
        session,
        actor,
        title="請求書の再発行",
        assignee_id=bob.user.id,
        due_date=today - timedelta(days=3),
    )
    make_task(session, actor, title="他人のタスク", due_date=today)
    page = web_client(bob).get("/tasks")
    assert page.status_code == 200
    assert page.text.index("請求書の再発行") < page.text.index("来週の準備")
    assert "3 days overdue" in page.text and "tk-overdue" in page.text
    assert "他人のタスク" not in page.text
    everyone = web_client(bob).get("/tasks?scope=unassigned")
    assert "他人のタスク" in everyone.text and "請求書の再発行" not in everyone.text


def test_it_creates_a_task_from_the_list_and_shows_errors_in_place(
    session: Session, bob: Person, web_client: Browse
) -> None:
    client = web_client(bob)
    token = form_token(client.get("/tasks").text)
    bad = client.post(
        "/tasks",
        data={"csrf_token": token, "title": " ", "owner_type": "vendor", "due_date": "明日"},
    )
    assert bad.status_code == 422
    assert "Enter a title of 1 to 300 characters." in bad.text
    assert "Choose whose task it is" in bad.text
    good = client.post(
        "/tasks",
        data={"csrf_token": token, "title": "議事録を送付", "assignee_id": str(bob.user.id)},
        follow_redirects=False,
    )
    assert good.status_code == 303
    detail = client.get(good.headers["location"])
    assert "議事録を送付" in detail.text and "Version 1" in detail.text
