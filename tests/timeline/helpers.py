"""Plain functions that make valid timeline entries for the tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.timeline.models import TimelineEntry
from banso.timeline.schemas import EntryIn
from banso.timeline.service import create_entry

JST = ZoneInfo("Asia/Tokyo")


def at(day: str, clock: str = "10:00") -> datetime:
    """A moment in Tokyo: ``at("2025-04-01", "10:30")``."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=JST)


def entry_data(account: Account, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account_id": account.id,
        "kind": "hearing",
        "title": "導入状況のヒアリング",
        "body": "週次の定例で**利用状況**を確認した。",
        "occurred_at": at("2025-04-01"),
    }
    kind = fields.get("kind")
    if kind == "trouble":
        data |= {"severity": "high", "status": "open"}
    if kind == "cancellation_interview":
        data |= {"reason_keys": ["price"], "hypothesis": "価格より活用不足が本因では"}
    return data | fields


def make_entry(session: Session, actor: Actor, account: Account, **fields: Any) -> TimelineEntry:
    return create_entry(session, actor, EntryIn(**entry_data(account, **fields)))
