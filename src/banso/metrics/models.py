"""Metric definitions an admin manages, and the per-account values computed for each date."""

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


class MetricDefinitionRow(Versioned, Base):
    """One metric: its key, name and declarative spec (see definitions.MetricDefinition)."""

    __tablename__ = "metric_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(20), default="count")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(default=0)


class MetricSnapshot(Base):
    """The value of one metric for one account as of one date (null: no value that day)."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (
        UniqueConstraint("account_id", "metric_key", "as_of"),
        Index("ix_metric_snapshots_as_of_key", "as_of", "metric_key"),
    )

    # Millions of rows per year of daily refreshes: 64-bit ids (SQLite's INTEGER already is).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    metric_key: Mapped[str] = mapped_column(String(63))
    as_of: Mapped[date]
    value: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MetricRefresh(Base):
    """One refresh of one date: when, how long, on which engine (shown by `banso refresh`)."""

    __tablename__ = "metric_refreshes"

    as_of: Mapped[date] = mapped_column(primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    engine: Mapped[str] = mapped_column(String(40))
    accounts: Mapped[int]
    metrics: Mapped[int]
    seconds: Mapped[float] = mapped_column(Float)
