"""REST endpoints for tasks: list (overdue first), create, read, change, delete."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from banso.api.deps import Confirm, ReaderDep, SessionDep, WriterDep
from banso.tasks import service
from banso.tasks.models import Task
from banso.tasks.schemas import OwnerType, TaskIn, TaskOut, TaskPatch

router = APIRouter()
StatusFilter = Annotated[
    str,
    Query(pattern="^(open|in_progress|done|cancelled|any)$",
          description="open (open or in progress, the default), one status, or any."),
]  # fmt: skip


class TaskPage(BaseModel):
    items: list[TaskOut]
    page: int
    has_next: bool
    total: int


def _out(task: Task) -> TaskOut:
    return TaskOut.model_validate(task, from_attributes=True)


@router.get("/tasks", response_model=TaskPage, tags=["tasks"])
def list_tasks(
    session: SessionDep,
    _: ReaderDep,
    assignee_id: int | None = None,
    unassigned: bool = False,
    status: StatusFilter = "open",
    owner_type: OwnerType | None = None,
    account_id: int | None = None,
    as_of: Annotated[date | None, Query(description="'Today' for the order.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> TaskPage:
    """Tasks, 50 a page: overdue first (oldest due first), due today, later, without due date."""
    scope = "unassigned" if unassigned else ("mine" if assignee_id is not None else "all")
    f = service.TaskFilter(scope, assignee_id, status, owner_type, account_id)
    found = service.list_tasks(session, f, as_of or service.workspace_today(session), page)
    return TaskPage(
        items=[_out(t) for t in found.items], page=found.page, has_next=found.has_next,
        total=found.total,
    )  # fmt: skip


@router.post("/tasks", response_model=TaskOut, status_code=201, tags=["tasks"])
def create_task(data: TaskIn, session: SessionDep, actor: WriterDep) -> TaskOut:
    return _out(service.create_task(session, actor, data))


@router.get("/tasks/{task_id}", response_model=TaskOut, tags=["tasks"])
def get_task(task_id: int, session: SessionDep, _: ReaderDep) -> TaskOut:
    return _out(service.get_task(session, task_id))


@router.patch("/tasks/{task_id}", response_model=TaskOut, tags=["tasks"])
def update_task(task_id: int, data: TaskPatch, session: SessionDep, actor: WriterDep) -> TaskOut:
    """Change the fields sent. ``version`` must be the one you read, else 409 with merges of
    the title and description."""
    return _out(service.update_task(session, actor, task_id, data))


@router.delete("/tasks/{task_id}", status_code=204, tags=["tasks"])
def delete_task(
    task_id: int, session: SessionDep, actor: WriterDep, confirm: Confirm = False
) -> Response:
    """Without ``confirm=true`` nothing is deleted: 409 says what would be."""
    service.delete_task(session, actor, task_id, confirm=confirm)
    return Response(status_code=204)
