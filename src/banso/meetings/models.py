"""Meetings, their agenda items (論点), review requests and review comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned, utcnow

MEETING_STATUSES = ("planned", "held", "closed", "cancelled")
REVIEW_STATUSES = ("requested", "changes_requested", "approved", "withdrawn")


class Meeting(Versioned, Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    scheduled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="planned")
    location: Mapped[str | None] = mapped_column(String(300))
    attendees: Mapped[str | None] = mapped_column(Text)  # who took part, free text (Markdown)
    purpose: Mapped[str | None] = mapped_column(Text)  # the meeting's aim (Markdown)
    summary: Mapped[str | None] = mapped_column(Text)  # notes beyond the items (Markdown)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    template_page_id: Mapped[int | None] = mapped_column(
        ForeignKey("knowledge_pages.id", ondelete="SET NULL")
    )
    held_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


Index("ix_meetings_account_at", Meeting.account_id, Meeting.scheduled_at)
Index("ix_meetings_status_at", Meeting.status, Meeting.scheduled_at)


class MeetingItem(Versioned, Base):
    """One agenda item (論点): our stance beforehand; the customer's view and the decision after."""

    __tablename__ = "meeting_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    topic: Mapped[str] = mapped_column(String(300))
    hypothesis: Mapped[str] = mapped_column(Text, default="")  # our stance / 仮説
    customer_view: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text, default="")


class MeetingReview(Base):
    """A colleague asked to review the agenda and hypotheses before the meeting (M24)."""

    __tablename__ = "meeting_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="requested")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]


Index("ix_meeting_reviews_reviewer_status", MeetingReview.reviewer_id, MeetingReview.status)


class ReviewComment(Base):
    """A comment on a meeting's agenda, on the whole or on one item."""

    __tablename__ = "meeting_review_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_items.id", ondelete="CASCADE"))
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_reviews.id", ondelete="SET NULL")
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
