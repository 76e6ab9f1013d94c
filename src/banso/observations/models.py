"""Observation sessions and the moments of irritation, confusion or ideas seen in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned, utcnow

MOMENT_KINDS = ("irritation", "confusion", "idea")  # イラッ, ?, 💡
SEVERITIES = (1, 2, 3)  # 1 minor, 2 slows them down, 3 blocks them


class ObservationSession(Versioned, Base):
    __tablename__ = "observation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    held_at: Mapped[datetime]
    customer_role: Mapped[str] = mapped_column(String(200))  # who used the product
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    observer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recording_url: Mapped[str | None] = mapped_column(String(2000))
    keep: Mapped[str] = mapped_column(Text, default="")  # KPT retrospective
    problem: Mapped[str] = mapped_column(Text, default="")
    try_next: Mapped[str] = mapped_column(Text, default="")


class ObservationMoment(Base):
    __tablename__ = "observation_moments"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("observation_sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(200))  # the task step, e.g. 「初期設定 > CSV取込」
    screen: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int] = mapped_column(default=1)
    at_seconds: Mapped[int | None]  # where in the recording
    recording_url: Mapped[str | None] = mapped_column(String(2000))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_observation_moments_step", ObservationMoment.step, ObservationMoment.kind)
