"""Contracts and their movements: every MRR change is a dated row, so history can be rebuilt."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned, utcnow

CONTRACT_STATUSES = ("trial", "active", "churned", "paused")
MOVEMENT_KINDS = ("new", "expansion", "contraction", "renewal", "churn", "reactivation")


class Contract(Versioned, Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    plan: Mapped[str] = mapped_column(String(100))
    mrr: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    seats: Mapped[int | None]
    start_date: Mapped[date]
    end_date: Mapped[date | None] = mapped_column(index=True)
    auto_renew: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ContractMovement(Base):
    """One dated change of a contract; ``mrr_after``/``status_after`` are its state from then on."""

    __tablename__ = "contract_movements"
    __table_args__ = (
        Index("ix_contract_movements_contract_date", "contract_id", "effective_date", "id"),
        Index("ix_contract_movements_account_date", "account_id", "effective_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    effective_date: Mapped[date] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    mrr_before: Mapped[int] = mapped_column(default=0)
    mrr_after: Mapped[int]
    seats_before: Mapped[int | None]
    seats_after: Mapped[int | None]
    status_after: Mapped[str] = mapped_column(String(20))
    plan_after: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def mrr_delta(self) -> int:
        return self.mrr_after - self.mrr_before
