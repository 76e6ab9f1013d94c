"""Scorecards and their versions, score snapshots per account and date, band changes, ratings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned, utcnow


class Scorecard(Versioned, Base):
    """A named score; its rules live in versions, the newest of which is in force."""

    __tablename__ = "scorecards"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_primary: Mapped[bool] = mapped_column(default=False)
    current_version: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)


class ScorecardVersion(Base):
    """One immutable version of a scorecard's rules (see definitions.ScorecardSpec)."""

    __tablename__ = "scorecard_versions"
    __table_args__ = (UniqueConstraint("scorecard_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    number: Mapped[int]
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HealthSnapshot(Base):
    """An account's score on one scorecard as of one date, with every measure's part in it.

    ``measures`` holds, per measure key, ``{"raw", "points", "weight", "contribution"}``;
    a measure without a value has ``raw`` and ``points`` null and no weight."""

    __tablename__ = "health_snapshots"
    __table_args__ = (
        UniqueConstraint("scorecard_id", "as_of", "account_id"),
        Index("ix_health_snapshots_account", "account_id", "scorecard_id", "as_of"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    scorecard_version: Mapped[int]
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    as_of: Mapped[date]
    score: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(40))
    measures: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class HealthBandChange(Base):
    """An account moved from one band to another between two scored dates (playbook trigger)."""

    __tablename__ = "health_band_changes"
    __table_args__ = (
        UniqueConstraint("scorecard_id", "as_of", "account_id"),
        Index("ix_health_band_changes_as_of", "as_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    as_of: Mapped[date]
    previous_as_of: Mapped[date]
    from_band: Mapped[str | None] = mapped_column(String(40))
    to_band: Mapped[str | None] = mapped_column(String(40))
    from_score: Mapped[float | None] = mapped_column(Float)
    to_score: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class HealthRating(Base):
    """A CSM's own rating of an account (0-100) for a scorecard's ``rating`` measure."""

    __tablename__ = "health_ratings"
    __table_args__ = (Index("ix_health_ratings_account", "account_id", "measure_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    measure_key: Mapped[str] = mapped_column(String(63))
    value: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_on: Mapped[date]
    expires_on: Mapped[date]
    rated_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
