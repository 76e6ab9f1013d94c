"""Meetings for tests: plain functions making valid records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.meetings import service
from banso.meetings.models import Meeting, MeetingItem
from banso.meetings.schemas import ItemIn, MeetingIn

WHEN = datetime(2025, 6, 10, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo


def make_meeting(session: Session, actor: Actor, account: Account, **fields: Any) -> Meeting:
    data = {"account_id": account.id, "title": "定例会議", "scheduled_at": WHEN, **fields}
    return service.create_meeting(session, actor, MeetingIn(**data))


def make_item(
    session: Session,
    actor: Actor,
    meeting: Meeting,
    topic: str = "利用状況の確認",
    hypothesis: str = "ログイン率が下がっているのは担当者の異動が原因",
) -> MeetingItem:
    return service.add_item(session, actor, meeting.id, ItemIn(topic=topic, hypothesis=hypothesis))
