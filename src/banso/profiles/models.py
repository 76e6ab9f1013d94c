"""One profile per account (the four layers) and one per key contact (the people layer)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned

IT_LITERACY = (1, 2, 3, 4, 5)


class AccountProfile(Versioned, Base):
    __tablename__ = "account_profiles"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    industry_context: Mapped[str] = mapped_column(Text, default="")  # 業界の背景
    business_goals: Mapped[str] = mapped_column(Text, default="")  # 事業の目標
    rhythm: Mapped[str] = mapped_column(Text, default="")  # 週・日の業務リズム
    feelings: Mapped[str] = mapped_column(Text, default="")  # 利用中の気持ち
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ContactProfile(Versioned, Base):
    __tablename__ = "contact_profiles"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    it_literacy: Mapped[int | None]  # 1 (needs help with everything) … 5 (builds integrations)
    strengths: Mapped[str] = mapped_column(Text, default="")
    motivation: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
