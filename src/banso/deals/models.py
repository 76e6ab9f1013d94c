"""Inquiries and deals through a configurable pipeline, with a taxonomy of lost reasons."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned

STAGE_OUTCOMES = ("open", "won", "lost", "archived")


class PipelineStage(Base):
    __tablename__ = "pipeline_stages"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_ja: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(String(20), default="open")


class LostReason(Base):
    __tablename__ = "lost_reasons"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_ja: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="lost")  # lost | archived
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)


class Deal(Versioned, Base):
    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    # An inquiry often arrives before the company is an account.
    company_name: Mapped[str | None] = mapped_column(String(300))
    source_channel: Mapped[str | None] = mapped_column(String(100), index=True)
    company_size: Mapped[str | None] = mapped_column(String(20), index=True)
    problem: Mapped[str | None] = mapped_column(Text)
    budget: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    expected_mrr: Mapped[int | None]
    story: Mapped[str | None] = mapped_column(Text)
    stage_key: Mapped[str] = mapped_column(ForeignKey("pipeline_stages.key"), index=True)
    lost_reason_key: Mapped[str | None] = mapped_column(ForeignKey("lost_reasons.key"), index=True)
    lost_reason_text: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    inquiry_date: Mapped[date | None] = mapped_column(index=True)
    expected_close_date: Mapped[date | None]
    closed_date: Mapped[date | None]
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id", ondelete="SET NULL"))
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


Index("ix_deals_budget_id", Deal.budget, Deal.id)
Index("ix_deals_inquiry_date_id", Deal.inquiry_date, Deal.id)
