"""Timeline entries written by people, the taxonomy of cancellation reasons, and mentions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned

# Kinds a person writes. Meetings, contract movements and score changes join the stream
# from their own tables when it is read.
ENTRY_KINDS = ("hearing", "trouble", "call", "email", "cancellation_interview", "note")
TROUBLE_SEVERITIES = ("low", "medium", "high", "critical")
TROUBLE_STATUSES = ("open", "in_progress", "resolved")


class TimelineEntry(Versioned, Base):
    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    occurred_at: Mapped[datetime]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    # Troubles (トラブル)
    severity: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    # Cancellation interviews (解約ヒアリング): reason keys from cancellation_reasons.
    reason_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    hypothesis: Mapped[str | None] = mapped_column(Text)
    improvement: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


Index("ix_timeline_entries_account_at", TimelineEntry.account_id, TimelineEntry.occurred_at)
Index("ix_timeline_entries_kind_status", TimelineEntry.kind, TimelineEntry.status)


class CancellationReason(Base):
    """Why customers leave, as a taxonomy an admin keeps (like the deals' lost reasons)."""

    __tablename__ = "cancellation_reasons"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_ja: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class Mention(Base):
    """A user or contact mentioned in a document's Markdown (``@[name](user:12)``)."""

    __tablename__ = "mentions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))  # the document: "timeline_entry", ...
    entity_id: Mapped[int]
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )


Index("ix_mentions_entity", Mention.entity, Mention.entity_id)
