"""Tasks: who owns them (customer / us / joint), who does them, by when, and where from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned

OWNER_TYPES = ("customer", "us", "joint")
TASK_STATUSES = ("open", "in_progress", "done", "cancelled")
OPEN_STATUSES = ("open", "in_progress")
# Where a task came from; journeys and playbooks fill source_ref with their own ids.
TASK_SOURCES = ("manual", "meeting", "journey", "playbook")


class Task(Versioned, Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    owner_type: Mapped[str] = mapped_column(String(20), default="us")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )  # the person on the customer's side, for customer and joint tasks
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="open")
    source: Mapped[str] = mapped_column(String(20), default="manual")
    source_ref: Mapped[str | None] = mapped_column(String(100))
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    meeting_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_items.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    completed_at: Mapped[datetime | None]
    # The due date the last reminder was sent for, so that a re-run never reminds twice and a
    # changed due date is reminded again.
    reminded_for: Mapped[date | None]


Index("ix_tasks_assignee_status_due", Task.assignee_id, Task.status, Task.due_date)
Index("ix_tasks_status_due", Task.status, Task.due_date)
