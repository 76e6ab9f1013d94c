from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.tasks.service import (
    PAGE_SIZE,
    TaskFilter,
    account_tasks,
    days_overdue,
    list_tasks,
    my_tasks,
)
from tests.conftest import Person
from tests.factories import make_account
from tests.tasks.factories import make_task

TODAY = date(2026, 11, 20)


def test_it_lists_overdue_first_then_today_then_later_then_undated(
    session: Session, actor: Actor, bob: Person
) -> None:
    mine = {"assignee_id": bob.user.id}
    later = make_task(session, actor, title="later", due_date=TODAY + timedelta(3), **mine)
    undated = make_task(session, actor, title="undated", **mine)
    today = make_task(session, actor, title="today", due_date=TODAY, **mine)
    old = make_task(session, actor, title="old", due_date=TODAY - timedelta(10), **mine)
    recent = make_task(session, actor, title="recent", due_date=TODAY - timedelta(1), **mine)
    make_task(session, actor, title="done", due_date=TODAY - timedelta(20), status="done", **mine)
    make_task(session, actor, title="not mine", due_date=TODAY - timedelta(30))
    page = my_tasks(session, bob.user.id, TODAY)
    assert [t.title for t in page.items] == [
        old.title,
        recent.title,
        today.title,
        later.title,
        undated.title,
    ]
    assert days_overdue(old, TODAY) == 10 and days_overdue(today, TODAY) == 0
    assert [t.title for t in my_tasks(session, bob.user.id, TODAY, status="done").items] == ["done"]


def test_it_filters_by_scope_owner_type_and_account(
    session: Session, actor: Actor, bob: Person
) -> None:
    account = make_account(session)
    make_task(session, actor, title="ours", assignee_id=bob.user.id, account_id=account.id)
    make_task(session, actor, title="theirs", owner_type="customer", account_id=account.id)
    make_task(session, actor, title="elsewhere", owner_type="customer")

    def titles(**kwargs: object) -> list[str]:
        return sorted(t.title for t in list_tasks(session, TaskFilter(**kwargs), TODAY).items)  # type: ignore[arg-type]

    assert titles(scope="unassigned") == ["elsewhere", "theirs"]
    assert titles(scope="all", owner_type="customer") == ["elsewhere", "theirs"]
    assert titles(scope="all", account_id=account.id) == ["ours", "theirs"]
    assert titles(scope="mine", user_id=bob.user.id) == ["ours"]
    grouped = account_tasks(session, account.id, TODAY)
    assert [t.title for t in grouped["customer"]] == ["theirs"]
    assert [t.title for t in grouped["us"]] == ["ours"] and grouped["joint"] == []


def test_it_pages_by_fifty(session: Session, actor: Actor, bob: Person) -> None:
    for n in range(PAGE_SIZE + 3):
        make_task(session, actor, title=f"task {n}", assignee_id=bob.user.id)
    first = my_tasks(session, bob.user.id, TODAY)
    second = my_tasks(session, bob.user.id, TODAY, page=2)
    assert len(first.items) == PAGE_SIZE and first.has_next and first.total == PAGE_SIZE + 3
    assert len(second.items) == 3 and not second.has_next
    assert not {t.id for t in first.items} & {t.id for t in second.items}
