"""Reminder mail: one message per assignee listing the tasks overdue or due soon.

Each task is reminded once per due date (``Task.reminded_for``), so a re-run the same day
queues nothing new, and a task whose due date moves is reminded again for the new date.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.auth.models import User
from banso.errors import InvalidInput
from banso.i18n import format_date, gettext, ngettext, use_locale
from banso.notify.outbox import enqueue
from banso.tasks.models import OPEN_STATUSES, Task

MAX_DAYS_AHEAD = 60


@dataclass
class ReminderReport:
    assignees: int = 0  # mails queued
    tasks: int = 0  # tasks in them


def due_for_reminder(session: Session, as_of: date, days_ahead: int) -> list[Task]:
    """Open, assigned tasks due by ``as_of + days_ahead`` not yet reminded for that due date."""
    if not 0 <= days_ahead <= MAX_DAYS_AHEAD:
        raise InvalidInput.one("days_ahead", f"must be between 0 and {MAX_DAYS_AHEAD}")
    stmt = (
        select(Task)
        .join(User, User.id == Task.assignee_id)
        .where(
            User.is_active.is_(True),
            Task.status.in_(OPEN_STATUSES),
            Task.due_date.is_not(None),
            Task.due_date <= as_of + timedelta(days=days_ahead),
            or_(Task.reminded_for.is_(None), Task.reminded_for != Task.due_date),
        )
        .order_by(Task.assignee_id, Task.due_date, Task.id)
    )
    return list(session.scalars(stmt))


def remind(
    session: Session, as_of: date, days_ahead: int = 1, *, base_url: str = ""
) -> ReminderReport:
    """Queue the reminder mails for ``as_of`` and mark their tasks reminded."""
    tasks = due_for_reminder(session, as_of, days_ahead)
    by_user: dict[int, list[Task]] = defaultdict(list)
    for task in tasks:
        assert task.assignee_id is not None  # the query joins on it
        by_user[task.assignee_id].append(task)
    account_names = _account_names(session, {t.account_id for t in tasks if t.account_id})
    report = ReminderReport()
    for user_id, theirs in by_user.items():
        user = session.get(User, user_id)
        assert user is not None
        with use_locale(user.locale or "ja"):
            subject, text = _mail(theirs, as_of, account_names, base_url)
        key = _dedupe_key(user_id, as_of, theirs)
        if enqueue(session, dedupe_key=key, payload={"to": user.email, "subject": subject,
                                                     "text": text}):  # fmt: skip
            report.assignees += 1
            report.tasks += len(theirs)
    if tasks:
        session.execute(
            update(Task)
            .where(Task.id.in_([t.id for t in tasks]))
            .values(reminded_for=Task.due_date)
            .execution_options(synchronize_session=False)
        )  # a plain UPDATE: reminding is not an edit, so the task's version stays
    return report


def _account_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Account.id, Account.name).where(Account.id.in_(ids)))
    return {int(i): str(n) for i, n in rows}


def _dedupe_key(user_id: int, as_of: date, tasks: list[Task]) -> str:
    listed = ",".join(f"{t.id}@{t.due_date}" for t in tasks)
    digest = hashlib.sha256(listed.encode()).hexdigest()[:16]
    return f"tasks.remind:{user_id}:{as_of.isoformat()}:{digest}"


def _mail(
    tasks: list[Task], as_of: date, account_names: dict[int, str], base_url: str
) -> tuple[str, str]:
    """Subject and body in the current locale."""
    overdue = sum(1 for t in tasks if t.due_date is not None and t.due_date < as_of)
    subject = ngettext("%(n)d task needs your attention", "%(n)d tasks need your attention",
                       len(tasks)) % {"n": len(tasks)}  # fmt: skip
    if overdue:
        subject += " " + gettext("(%(n)d overdue)") % {"n": overdue}
    lines = [gettext("Tasks overdue or due soon, as of %(date)s:") % {"date": format_date(as_of)}]
    lines.append("")
    for task in tasks:
        assert task.due_date is not None
        if task.due_date < as_of:
            late = (as_of - task.due_date).days
            when = ngettext("%(num)d day overdue", "%(num)d days overdue", late) % {"num": late}
        elif task.due_date == as_of:
            when = gettext("due today")
        else:
            when = gettext("due %(date)s") % {"date": format_date(task.due_date)}
        account = account_names.get(task.account_id or 0)
        lines.append(f"- {task.title}" + (f" ({account})" if account else "") + f" — {when}")
        lines.append(f"  {base_url.rstrip('/')}/tasks/{task.id}")
    lines.append("")
    lines.append(gettext("Open banso to see all your tasks: %(url)s")
                 % {"url": f"{base_url.rstrip('/')}/tasks"})  # fmt: skip
    return subject, "\n".join(lines) + "\n"
