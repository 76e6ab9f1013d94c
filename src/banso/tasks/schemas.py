"""Shapes of tasks: what a form or the API may send, and what the API answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from banso.text import LongText, Name

OwnerType = Literal["customer", "us", "joint"]
TaskStatus = Literal["open", "in_progress", "done", "cancelled"]
TaskSource = Literal["manual", "meeting", "journey", "playbook"]
DB_INT_MAX = 2**31 - 1
RecordId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


OptionalId = Annotated[RecordId | None, BeforeValidator(_blank_to_none)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
SourceRef = Annotated[
    str | None,
    BeforeValidator(_blank_to_none),
    Field(default=None, max_length=100, pattern=r"^[^\x00]*$"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskIn(_Strict):
    """A new task. ``account_id`` links it to a customer; meetings fill meeting ids."""

    title: Name
    description: LongText = Field(default="", description="Markdown.")
    owner_type: OwnerType = Field(default="us", description="Whose task: customer, us or joint.")
    assignee_id: OptionalId = Field(default=None, description="The user who does or follows it.")
    contact_id: OptionalId = Field(default=None, description="The customer's contact, if any.")
    due_date: OptionalDate = None
    status: TaskStatus = "open"
    account_id: OptionalId = None
    source: TaskSource = "manual"
    source_ref: SourceRef = None
    meeting_id: OptionalId = None
    meeting_item_id: OptionalId = None


class TaskPatch(_Strict):
    """Only the fields sent change; ``version`` must be the one you read."""

    version: int
    title: Name | None = None
    description: LongText | None = None
    owner_type: OwnerType | None = None
    assignee_id: OptionalId = None
    contact_id: OptionalId = None
    due_date: OptionalDate = None
    status: TaskStatus | None = None
    account_id: OptionalId = None

    @field_validator("title", "description", "owner_type", "status", mode="before")
    @classmethod
    def _no_null_for_required(cls, value: Any) -> Any:
        # Runs only for fields that were sent: an explicit null would empty a required column.
        if value is None:
            raise ValueError("cannot be null; leave it out to keep it")
        return value


class TaskOut(BaseModel):
    id: int
    title: str
    description: str
    owner_type: str
    assignee_id: int | None
    contact_id: int | None
    due_date: date | None
    status: str
    account_id: int | None
    source: str
    source_ref: str | None
    meeting_id: int | None
    meeting_item_id: int | None
    created_by_id: int | None
    completed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
