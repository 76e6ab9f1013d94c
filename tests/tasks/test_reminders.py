from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import InvalidInput
from banso.i18n import gettext, ngettext, use_locale
from banso.notify.models import OutboxMessage
from banso.tasks.reminders import remind
from banso.tasks.schemas import TaskPatch
from banso.tasks.service import update_task
from tests.conftest import Person
from tests.factories import make_account
from tests.tasks.factories import make_task

AS_OF = date(2026, 11, 20)


def _mails(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_it_queues_one_mail_per_assignee_in_their_language(
    session: Session, actor: Actor, alice: Person, bob: Person
) -> None:
    bob.user.locale = "en"
    alice.user.locale = "ja"
    account = make_account(session, name="株式会社リマインド")
    bobs = {"assignee_id": bob.user.id, "account_id": account.id}
    make_task(session, actor, title="契約更新の確認", due_date=AS_OF - timedelta(days=2), **bobs)
    make_task(session, actor, title="QBRの準備", due_date=AS_OF + timedelta(days=1), **bobs)
    make_task(session, actor, title="来月の話", due_date=AS_OF + timedelta(days=5), **bobs)
    make_task(session, actor, title="済み", due_date=AS_OF, status="done", **bobs)
    make_task(session, actor, title="アリスの宿題", due_date=AS_OF, assignee_id=alice.user.id)
    make_task(session, actor, title="担当なし", due_date=AS_OF)
    report = remind(session, AS_OF, days_ahead=1, base_url="https://banso.example.jp/")
    assert (report.assignees, report.tasks) == (2, 3)
    by_to = {m.payload["to"]: m.payload for m in _mails(session)}
    english = by_to["bob@example.com"]
    assert english["subject"] == "2 tasks need your attention (1 overdue)"
    assert "契約更新の確認 (株式会社リマインド) — 2 days overdue" in english["text"]
    assert "QBRの準備" in english["text"] and "来月の話" not in english["text"]
    assert "https://banso.example.jp/tasks/" in english["text"]
    japanese = by_to["alice@example.com"]
    with use_locale("ja"):
        expected = ngettext(
            "%(n)d task needs your attention", "%(n)d tasks need your attention", 1
        ) % {"n": 1}
        assert japanese["subject"] == expected
        assert gettext("due today") in japanese["text"] and "アリスの宿題" in japanese["text"]


def test_a_rerun_the_same_day_queues_nothing_new(
    session: Session, actor: Actor, bob: Person
) -> None:
    task = make_task(session, actor, assignee_id=bob.user.id, due_date=AS_OF)
    assert remind(session, AS_OF).assignees == 1
    assert remind(session, AS_OF).assignees == 0
    assert remind(session, AS_OF + timedelta(days=1)).assignees == 0  # reminded for that date
    assert len(_mails(session)) == 1
    session.refresh(task)
    assert task.version == 1  # reminding is not an edit: nobody's form goes stale


def test_a_moved_due_date_is_reminded_again(session: Session, actor: Actor, bob: Person) -> None:
    task = make_task(session, actor, assignee_id=bob.user.id, due_date=AS_OF)
    remind(session, AS_OF)
    session.refresh(task)
    update_task(
        session, actor, task.id, TaskPatch(version=task.version, due_date=AS_OF + timedelta(3))
    )
    assert remind(session, AS_OF + timedelta(days=2)).tasks == 1
    assert len(_mails(session)) == 2


def test_it_skips_deactivated_assignees_and_refuses_a_bad_window(
    session: Session, actor: Actor, bob: Person
) -> None:
    make_task(session, actor, assignee_id=bob.user.id, due_date=AS_OF)
    bob.user.is_active = False
    session.flush()
    assert remind(session, AS_OF).assignees == 0
    with pytest.raises(InvalidInput, match="days_ahead"):
        remind(session, AS_OF, days_ahead=-1)
