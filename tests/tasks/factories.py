"""Plain functions that make tasks and the meetings they may come from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.meetings.models import Meeting, MeetingItem
from banso.tasks.models import Task
from banso.tasks.schemas import TaskIn
from banso.tasks.service import create_task


def make_task(session: Session, actor: Actor, **fields: Any) -> Task:
    data = {"title": "提案資料を送る", **fields}
    return create_task(session, actor, TaskIn(**data))


def make_meeting(session: Session, account: Account, **fields: Any) -> Meeting:
    meeting = Meeting(
        account_id=account.id,
        title=fields.pop("title", "定例ミーティング"),
        scheduled_at=fields.pop("scheduled_at", datetime(2026, 11, 20, 5, tzinfo=UTC)),
        **fields,
    )
    session.add(meeting)
    session.flush()
    return meeting


def make_item(session: Session, meeting: Meeting, topic: str = "活用状況") -> MeetingItem:
    item = MeetingItem(meeting_id=meeting.id, topic=topic)
    session.add(item)
    session.flush()
    return item
