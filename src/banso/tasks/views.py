"""Task pages: my tasks (overdue first), a task with its edit form and history, and the
customer page's tasks slot with a quick-add form.

Everyone signed in reads; CSMs and up create, edit, finish and delete. The logic lives in
banso.tasks.service; routes validate, call one service function and render.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.accounts.service import get_account
from banso.auth.models import User
from banso.documents.service import EditConflict, history
from banso.errors import ConfirmationRequired, InvalidInput
from banso.i18n import N_, gettext
from banso.tasks import service
from banso.tasks.labels import OWNER_LABELS, STATUS_LABELS
from banso.tasks.models import OPEN_STATUSES, OWNER_TYPES, TASK_STATUSES, Task
from banso.tasks.schemas import TaskIn, TaskPatch
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of, today_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

SCOPES = {"mine": N_("My tasks"), "all": N_("All tasks"), "unassigned": N_("Unassigned")}
STATUS_FILTERS = {"open": N_("Open or in progress"), **STATUS_LABELS, "any": N_("Any status")}
FIELD_LABELS = {"title": N_("Title"), "description": N_("Description")}
# What the user sees for a field a form got wrong (the services' own words are English).
FIELD_ERRORS = {
    "title": N_("Enter a title of 1 to 300 characters."),
    "description": N_("The description is too long: at most 100,000 characters."),
    "owner_type": N_("Choose whose task it is: the customer's, ours or joint."),
    "status": N_("Choose one of the statuses."),
    "due_date": N_("Enter the due date as a date (YYYY-MM-DD), or leave it empty."),
    "assignee_id": N_("Choose an active user as the assignee, or nobody."),
    "contact_id": N_("Choose a contact of this customer, or nobody."),
    "account_id": N_("Choose an existing customer."),
}
_FORM_FIELDS = ("title", "description", "owner_type", "assignee_id", "contact_id", "due_date",
                "status")  # fmt: skip


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page_number(text: str) -> int:
    try:
        return max(1, min(int(text), 100_000))
    except ValueError:
        return 1


def _optional_id(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if 1 <= value <= 2**31 - 1 else None


def _safe_next(text: str, default: str) -> str:
    """Only a path on this site (never //elsewhere) is a place to go back to."""
    return text if text.startswith("/") and not text.startswith("//") else default


def _errors(exc: ValidationError | InvalidInput) -> dict[str, str]:
    """Errors by field, in the reader's language where the form knows the field."""
    if isinstance(exc, InvalidInput):
        names = [e.field for e in exc.errors]
        raw = {e.field: e.message for e in exc.errors}
    else:
        names = [str(e["loc"][0]) if e["loc"] else "form" for e in exc.errors()]
        raw = {n: str(e["msg"]) for n, e in zip(names, exc.errors(), strict=True)}
    return {n: gettext(FIELD_ERRORS[n]) if n in FIELD_ERRORS else raw[n] for n in names}


def _common(session: Session, request: Request) -> dict[str, Any]:
    return {
        "today": today_of(request),
        "scopes": SCOPES,
        "status_labels": STATUS_LABELS,
        "status_filters": STATUS_FILTERS,
        "owner_labels": OWNER_LABELS,
        "owner_types": OWNER_TYPES,
        "statuses": TASK_STATUSES,
        "open_statuses": OPEN_STATUSES,
        "users": service.assignable_users(session),
        "days_overdue": service.days_overdue,
    }


# ---------------------------------------------------------------- the task list


def _filter(user: User, scope: str, status: str, owner: str, account: str) -> service.TaskFilter:
    return service.TaskFilter(
        scope=scope if scope in SCOPES else "mine",
        user_id=user.id,
        status=status if status in STATUS_FILTERS else "open",
        owner_type=owner if owner in OWNER_TYPES else None,
        account_id=_optional_id(account),
    )


def _list_page(
    request: Request, session: Session, user: User, f: service.TaskFilter, page: int,
    form: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    listing = service.list_tasks(session, f, today_of(request), page)
    context = {
        **_common(session, request),
        "filter": f,
        "listing": listing,
        "labels": service.labels_for(session, listing.items),
        "account_name": service.account_name(session, f.account_id),
        "can_write": user.can_write,
        "form": form or {"values": {"owner_type": "us", "assignee_id": str(user.id)}, "errors": {}},
        "back": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }
    return render(request, "tasks/list.html", context, status_code=status_code)


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(
    request: Request, session: DbSession, user: SignedInUser, scope: str = "mine",
    status: str = "open", owner: str = "", account: str = "", page: str = "1",
) -> Response:  # fmt: skip
    f = _filter(user, scope, status, owner, account)
    return _list_page(request, session, user, f, _page_number(page))


@router.post("/tasks", response_class=HTMLResponse)
def create_task_form(
    request: Request, session: DbSession, user: WriterUser, title: str = Form(""),
    description: str = Form(""), owner_type: str = Form("us"), assignee_id: str = Form(""),
    due_date: str = Form(""), account_id: str = Form(""),
) -> Response:  # fmt: skip
    values = {
        "title": title,
        "description": description,
        "owner_type": owner_type,
        "assignee_id": assignee_id,
        "due_date": due_date,
        "account_id": account_id,
    }
    try:
        task = service.create_task(session, actor_of(user), TaskIn.model_validate(values))
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        f = _filter(user, "mine", "open", "", account_id)
        form = {"values": values, "errors": _errors(exc)}
        return _list_page(request, session, user, f, 1, form, 422)
    flash(request, gettext("Task created."))
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


# ---------------------------------------------------------------- one task


def _detail(
    request: Request, session: Session, user: User, task: Task,
    extra: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    context = {
        **_common(session, request),
        "task": task,
        "labels": service.labels_for(session, [task]),
        "contacts": service.contacts_of(session, task.account_id),
        "revisions": history(session, "task", task.id),
        "field_labels": {k: gettext(v) for k, v in FIELD_LABELS.items()},
        "can_write": user.can_write,
        "values": {k: _shown(getattr(task, k)) for k in _FORM_FIELDS},
        "version": task.version,
        "errors": {},
        "conflict": None,
        **(extra or {}),
    }
    return render(request, "tasks/detail.html", context, status_code=status_code)


def _shown(value: object) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


@router.get("/tasks/{task_id:int}", response_class=HTMLResponse)
def task_page(request: Request, task_id: int, session: DbSession, user: SignedInUser) -> Response:
    return _detail(request, session, user, service.get_task(session, task_id))


@router.post("/tasks/{task_id:int}", response_class=HTMLResponse)
def edit_task_form(
    request: Request, task_id: int, session: DbSession, user: WriterUser,
    version: str = Form(""), title: str = Form(""), description: str = Form(""),
    owner_type: str = Form("us"), assignee_id: str = Form(""), contact_id: str = Form(""),
    due_date: str = Form(""), status: str = Form("open"),
) -> Response:  # fmt: skip
    values = {
        "title": title,
        "description": description,
        "owner_type": owner_type,
        "assignee_id": assignee_id,
        "contact_id": contact_id,
        "due_date": due_date,
        "status": status,
    }
    task = service.get_task(session, task_id)
    try:
        patch = TaskPatch.model_validate({"version": version or "0", **values})
        service.update_task(session, actor_of(user), task_id, patch)
    except EditConflict as conflict:
        session.rollback()
        extra = {"values": values, "conflict": conflict, "version": conflict.current_version}
        return _detail(request, session, user, service.get_task(session, task_id), extra, 409)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        extra = {"values": values, "errors": _errors(exc), "version": version}
        return _detail(request, session, user, service.get_task(session, task_id), extra, 422)
    flash(request, gettext("Task saved."))
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


@router.post("/tasks/{task_id:int}/status", response_class=HTMLResponse)
def change_status(
    request: Request, task_id: int, session: DbSession, user: WriterUser,
    status: str = Form(""), view: str = Form("row"), next: str = Form(""),
) -> Response:  # fmt: skip
    """Quick status buttons: HTMX swaps the row (or the customer slot); otherwise go back."""
    task = service.set_status(session, actor_of(user), task_id, status)
    if not _is_htmx(request):
        flash(request, gettext("Task status changed."))
        return RedirectResponse(_safe_next(next, f"/tasks/{task_id}"), status_code=303)
    if view == "slot" and task.account_id is not None:
        return _account_slot(request, session, user, task.account_id)
    context = {
        **_common(session, request),
        "task": task,
        "can_write": user.can_write,
        "labels": service.labels_for(session, [task]),
        "back": _safe_next(next, "/tasks"),
    }
    return render(request, "tasks/_row.html", context)


@router.post("/tasks/{task_id:int}/delete", response_class=HTMLResponse)
def delete_task_form(
    request: Request, task_id: int, session: DbSession, user: WriterUser, confirm: str = Form("")
) -> Response:
    task = service.get_task(session, task_id)
    try:
        service.delete_task(session, actor_of(user), task_id, confirm=confirm == "yes")
    except ConfirmationRequired:
        message = gettext("Tick the box to confirm that the task should be deleted.")
        return _detail(request, session, user, task, {"delete_error": message}, 409)
    flash(request, gettext("Task deleted."))
    return RedirectResponse("/tasks", status_code=303)


# ---------------------------------------------------------------- the customer page's slot


def _account_slot(
    request: Request, session: Session, user: User, account_id: int,
    form: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    account = get_account(session, account_id)
    grouped = service.account_tasks(session, account.id, today_of(request))
    context = {
        **_common(session, request),
        "account": account,
        "grouped": grouped,
        "labels": service.labels_for(session, [t for ts in grouped.values() for t in ts]),
        "contacts": service.contacts_of(session, account.id),
        "can_write": user.can_write,
        "form": form or {"values": {"owner_type": "us", "assignee_id": str(user.id)}, "errors": {}},
    }
    name = "tasks/_account_tasks.html" if _is_htmx(request) else "tasks/account_tasks.html"
    return render(request, name, context, status_code=status_code)


@router.get("/customers/{account_id:int}/tasks", response_class=HTMLResponse)
def account_tasks_slot(
    request: Request, account_id: int, session: DbSession, user: SignedInUser
) -> Response:
    return _account_slot(request, session, user, account_id)


@router.post("/customers/{account_id:int}/tasks", response_class=HTMLResponse)
def quick_add(
    request: Request, account_id: int, session: DbSession, user: WriterUser,
    title: str = Form(""), owner_type: str = Form("us"), assignee_id: str = Form(""),
    contact_id: str = Form(""), due_date: str = Form(""),
) -> Response:  # fmt: skip
    values = {
        "title": title,
        "owner_type": owner_type,
        "assignee_id": assignee_id,
        "contact_id": contact_id,
        "due_date": due_date,
    }
    account = get_account(session, account_id)
    try:
        data = TaskIn.model_validate({**values, "account_id": account.id})
        service.create_task(session, actor_of(user), data)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        form = {"values": values, "errors": _errors(exc)}
        return _account_slot(request, session, user, account.id, form, 422)
    if _is_htmx(request):
        return _account_slot(request, session, user, account.id)
    flash(request, gettext("Task created."))
    return RedirectResponse(f"/customers/{account.id}/tasks", status_code=303)
