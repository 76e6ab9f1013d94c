"""Tasks: creating, editing and finishing them, and the lists people work from.

Every write checks the references of the resulting task (account, assignee, contact, meeting)
before anything is written, so a refused change leaves the session untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.audit.service import Actor, record, snapshot
from banso.auth.models import User
from banso.db import utcnow
from banso.documents.service import add_revision, forget, save_fields
from banso.errors import ConfirmationRequired, FieldError, InvalidInput, NotFound, PermissionDenied
from banso.meetings.models import Meeting, MeetingItem
from banso.search.documents import Doc, drop, put
from banso.settings import Settings
from banso.tasks.models import OPEN_STATUSES, TASK_STATUSES, Task
from banso.tasks.schemas import DB_INT_MAX, TaskIn, TaskPatch

ENTITY = "task"
TEXT_FIELDS = ("title", "description")
PAGE_SIZE = 50
# Fields a patch may change directly (status goes through the completed_at rule).
_EDITABLE = (
    "title",
    "description",
    "owner_type",
    "assignee_id",
    "contact_id",
    "due_date",
    "status",
    "account_id",
)


def _find(session: Session, model: type[Any], key: int | None) -> Any:
    if key is None or not 1 <= key <= DB_INT_MAX:
        return None
    return session.get(model, key)


def _require_writer(actor: Actor) -> None:
    if not actor.can_write:
        raise PermissionDenied("viewers cannot change tasks; ask an admin for a csm role")


# ------------------------------------------------------------------ reading


def get_task(session: Session, task_id: int) -> Task:
    task = _find(session, Task, task_id)
    if task is None:
        raise NotFound("task", task_id)
    return task


# ------------------------------------------------------------------ checks


@dataclass
class _Refs:
    account_id: int | None
    assignee_id: int | None
    contact_id: int | None
    meeting_id: int | None
    meeting_item_id: int | None


def _check_refs(session: Session, refs: _Refs) -> None:
    """Fill the meeting (from its item) and account (from the meeting); refuse what does not fit.

    All problems are reported at once, each naming its field.
    """
    errors: list[FieldError] = []
    if refs.meeting_item_id is not None:
        item = _find(session, MeetingItem, refs.meeting_item_id)
        if item is None:
            errors.append(
                FieldError("meeting_item_id", f"agenda item {refs.meeting_item_id} does not exist")
            )
        elif refs.meeting_id is None:
            refs.meeting_id = item.meeting_id
        elif item.meeting_id != refs.meeting_id:
            errors.append(
                FieldError(
                    "meeting_item_id",
                    f"agenda item {item.id} belongs to meeting {item.meeting_id}, "
                    f"not meeting {refs.meeting_id}",
                )
            )
    if refs.meeting_id is not None:
        meeting = _find(session, Meeting, refs.meeting_id)
        if meeting is None:
            errors.append(FieldError("meeting_id", f"meeting {refs.meeting_id} does not exist"))
        elif refs.account_id is None:
            refs.account_id = meeting.account_id
        elif meeting.account_id != refs.account_id:
            errors.append(
                FieldError(
                    "meeting_id",
                    f"meeting {meeting.id} is with account {meeting.account_id}, "
                    f"not account {refs.account_id}",
                )
            )
    if refs.account_id is not None and _find(session, Account, refs.account_id) is None:
        errors.append(FieldError("account_id", f"account {refs.account_id} does not exist"))
    if refs.assignee_id is not None:
        user = _find(session, User, refs.assignee_id)
        if user is None:
            errors.append(FieldError("assignee_id", f"user {refs.assignee_id} does not exist"))
        elif not user.is_active:
            errors.append(FieldError("assignee_id", f"user {user.id} ({user.name}) is deactivated"))
    if refs.contact_id is not None:
        contact = _find(session, Contact, refs.contact_id)
        if contact is None:
            errors.append(FieldError("contact_id", f"contact {refs.contact_id} does not exist"))
        elif refs.account_id is None:
            errors.append(
                FieldError("contact_id", "a contact needs the task's account: set account_id")
            )
        elif contact.account_id != refs.account_id:
            errors.append(
                FieldError(
                    "contact_id",
                    f"contact {contact.id} ({contact.name}) belongs to account "
                    f"{contact.account_id}, not account {refs.account_id}",
                )
            )
    if errors:
        raise InvalidInput(errors)


def _completed_at(old_status: str | None, new_status: str, current: datetime | None) -> Any:
    if new_status == "done":
        return current if old_status == "done" and current is not None else utcnow()
    return None


# ------------------------------------------------------------------ search


def _occurred_at(task: Task) -> datetime:
    if task.due_date is not None:
        return datetime.combine(task.due_date, time(), tzinfo=UTC)
    return task.created_at or utcnow()


def task_document(task: Task) -> Doc:
    """The task as the search index sees it."""
    return Doc(
        kind=ENTITY,
        ref_id=task.id,
        account_id=task.account_id,
        author_id=task.created_by_id,
        occurred_at=_occurred_at(task),
        title=task.title,
        body=task.description or "",
        url=f"/tasks/{task.id}",
    )


def _put(session: Session, task: Task) -> None:
    put(session, task_document(task))


def _drop(session: Session, task_id: int) -> None:
    drop(session, ENTITY, task_id)


def search_documents(session: Session) -> Iterator[Doc]:
    """Every task, for ``banso search reindex``."""
    for task in session.scalars(select(Task).order_by(Task.id).execution_options(yield_per=500)):
        yield task_document(task)


# ------------------------------------------------------------------ writing


def create_task(session: Session, actor: Actor, data: TaskIn) -> Task:
    """Create a task after checking every reference; records its first revision and audit."""
    _require_writer(actor)
    refs = _Refs(
        data.account_id, data.assignee_id, data.contact_id, data.meeting_id, data.meeting_item_id
    )
    _check_refs(session, refs)
    values = data.model_dump()
    values.update(
        account_id=refs.account_id, meeting_id=refs.meeting_id, meeting_item_id=refs.meeting_item_id
    )
    task = Task(**values, created_by_id=actor.user_id)
    task.completed_at = _completed_at(None, data.status, None)
    session.add(task)
    session.flush()
    add_revision(
        session, actor, ENTITY, task.id, task.version, {k: getattr(task, k) for k in TEXT_FIELDS}
    )
    record(session, actor, "create", ENTITY, task.id, None, snapshot(task))
    _put(session, task)
    return task


def update_task(session: Session, actor: Actor, task_id: int, patch: TaskPatch) -> Task:
    """Apply the fields sent if the task is still at ``patch.version``.

    Raises :class:`banso.documents.service.EditConflict` with merges of title and description
    when someone saved in between.
    """
    _require_writer(actor)
    task = get_task(session, task_id)
    sent = patch.model_fields_set - {"version"}
    changes: dict[str, Any] = {k: getattr(patch, k) for k in _EDITABLE if k in sent}
    merged = {k: changes.get(k, getattr(task, k)) for k in _EDITABLE}
    refs = _Refs(
        merged["account_id"], merged["assignee_id"], merged["contact_id"],
        task.meeting_id, task.meeting_item_id,
    )  # fmt: skip
    if patch.version == task.version:
        _check_refs(session, refs)
        if refs.account_id != merged["account_id"]:
            changes["account_id"] = refs.account_id
    if "status" in changes:
        completed = _completed_at(task.status, changes["status"], task.completed_at)
        if completed != task.completed_at:
            changes["completed_at"] = completed
    if save_fields(session, actor, ENTITY, task, patch.version, changes, text_fields=TEXT_FIELDS):
        _put(session, task)
    return task


def set_status(session: Session, actor: Actor, task_id: int, status: str) -> Task:
    """Quick status change from a list: done sets completed_at, reopening clears it.

    No version is asked for: a status change never overwrites anyone's text.
    """
    _require_writer(actor)
    task = get_task(session, task_id)
    if status not in TASK_STATUSES:
        raise InvalidInput.one(
            "status", f"unknown status {status!r}; use one of {', '.join(TASK_STATUSES)}"
        )
    patch = TaskPatch.model_validate({"version": task.version, "status": status})
    return update_task(session, actor, task_id, patch)


def delete_task(session: Session, actor: Actor, task_id: int, *, confirm: bool) -> None:
    """Delete a task; without ``confirm`` nothing happens and the error says what would go."""
    _require_writer(actor)
    task = get_task(session, task_id)
    if not confirm:
        raise ConfirmationRequired(
            f"deleting task {task_id} ({task.title}) cannot be undone except from the audit "
            "log. Confirm to proceed.",
            {"tasks": 1},
        )
    before = snapshot(task)
    session.delete(task)
    session.flush()
    forget(session, ENTITY, task_id)
    _drop(session, task_id)
    record(session, actor, "delete", ENTITY, task_id, before, None)


# ------------------------------------------------------------------ lists


@dataclass
class TaskFilter:
    """What a task list shows. ``scope``: mine, all or unassigned."""

    scope: str = "mine"
    user_id: int | None = None
    status: str = "open"  # open (open + in progress), a single status, or "any"
    owner_type: str | None = None
    account_id: int | None = None


def _due_rank(today: date) -> ColumnElement[int]:
    """0 overdue, 1 due today, 2 due later, 3 no due date."""
    return case(
        (Task.due_date.is_(None), 3),
        (Task.due_date < today, 0),
        (Task.due_date == today, 1),
        else_=2,
    )


def _conditions(f: TaskFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.scope == "mine":
        conditions.append(Task.assignee_id == f.user_id)
    elif f.scope == "unassigned":
        conditions.append(Task.assignee_id.is_(None))
    if f.status == "open":
        conditions.append(Task.status.in_(OPEN_STATUSES))
    elif f.status != "any":
        conditions.append(Task.status == f.status)
    if f.owner_type is not None:
        conditions.append(Task.owner_type == f.owner_type)
    if f.account_id is not None:
        conditions.append(Task.account_id == f.account_id)
    return conditions


def _ordered(f: TaskFilter, today: date) -> Select[Task]:
    return (
        select(Task)
        .where(and_(True, *_conditions(f)))
        .order_by(_due_rank(today), Task.due_date, Task.id)
    )


@dataclass
class TaskPage:
    items: list[Task]
    page: int
    has_next: bool
    total: int


def list_tasks(session: Session, f: TaskFilter, today: date, page: int = 1) -> TaskPage:
    """One page (50 a page) of tasks: overdue first (oldest due first), today, later, undated."""
    page = max(1, min(page, 100_000))
    stmt = _ordered(f, today).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    rows = list(session.scalars(stmt))
    total = session.scalar(
        select(func.count()).select_from(Task).where(and_(True, *_conditions(f)))
    )
    return TaskPage(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE, int(total or 0))


def my_tasks(
    session: Session, user_id: int, today: date, status: str = "open", page: int = 1
) -> TaskPage:
    """The user's tasks, overdue first."""
    return list_tasks(
        session, TaskFilter(scope="mine", user_id=user_id, status=status), today, page
    )


def meeting_tasks(session: Session, meeting_id: int) -> list[Task]:
    """The tasks made from a meeting's TODOs, in the order they were made."""
    return list(
        session.scalars(select(Task).where(Task.meeting_id == meeting_id).order_by(Task.id))
    )


def account_tasks(session: Session, account_id: int, today: date) -> dict[str, list[Task]]:
    """The account's open tasks grouped by owner type (customer, us, joint), overdue first."""
    grouped: dict[str, list[Task]] = {"customer": [], "us": [], "joint": []}
    f = TaskFilter(scope="all", account_id=account_id)
    for task in session.scalars(_ordered(f, today).limit(500)):
        grouped.setdefault(task.owner_type, []).append(task)
    return grouped


def days_overdue(task: Task, today: date) -> int:
    """How many days past due an open task is (0 when not overdue)."""
    if task.due_date is None or task.status not in OPEN_STATUSES:
        return 0
    return max(0, (today - task.due_date).days)


# ------------------------------------------------------------------ what pages show beside tasks


@dataclass
class TaskLabels:
    """Names of what a list of tasks refers to, fetched once for the whole list."""

    accounts: dict[int, str]
    users: dict[int, str]
    contacts: dict[int, str]
    meetings: dict[int, str]


def labels_for(session: Session, tasks: list[Task]) -> TaskLabels:
    def names(model: Any, column: Any, ids: set[int | None]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = session.execute(select(model.id, column).where(model.id.in_(wanted)))
        return {int(i): str(n) for i, n in rows}

    return TaskLabels(
        accounts=names(Account, Account.name, {t.account_id for t in tasks}),
        users=names(User, User.name, {t.assignee_id for t in tasks}),
        contacts=names(Contact, Contact.name, {t.contact_id for t in tasks}),
        meetings=names(Meeting, Meeting.title, {t.meeting_id for t in tasks}),
    )


def assignable_users(session: Session) -> list[User]:
    """Active users who can be given a task, by name."""
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)))


def contacts_of(session: Session, account_id: int | None) -> list[Contact]:
    if account_id is None:
        return []
    stmt = select(Contact).where(Contact.account_id == account_id).order_by(Contact.name)
    return list(session.scalars(stmt.limit(500)))


def account_name(session: Session, account_id: int | None) -> str | None:
    if account_id is None:
        return None
    account = _find(session, Account, account_id)
    return None if account is None else str(account.name)


def workspace_today(session: Session) -> date:
    """Today in the workspace timezone (the session may carry it; else the default)."""
    zone = session.info.get("timezone") or Settings.model_fields["timezone"].default
    return datetime.now(ZoneInfo(zone)).date()
