"""Accounts (customer companies), their contacts, external ids and custom field definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from banso.db import Base, Versioned, utcnow

COMPANY_SIZES = ("1-9", "10-49", "50-99", "100-299", "300-999", "1000+")
LIFECYCLE_STAGES = ("considering", "initial_setup", "early_operation", "stable", "churned")
CONTACT_ROLES = ("decision_maker", "project_leader", "project_office", "power_user", "user")
ENTITIES = ("account", "contact", "contract", "deal")


class Account(Versioned, Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    name_kana: Mapped[str | None] = mapped_column(String(300))
    # Normalised company name for identity resolution (株式会社/(株)/㈱, width, case, kana).
    name_key: Mapped[str] = mapped_column(String(300), index=True)
    industry: Mapped[str | None] = mapped_column(String(100), index=True)
    company_size: Mapped[str | None] = mapped_column(String(20), index=True)
    segment: Mapped[str | None] = mapped_column(String(100), index=True)
    source: Mapped[str | None] = mapped_column(String(100), index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    lifecycle_stage: Mapped[str | None] = mapped_column(String(40), index=True)
    # Sum of the MRR of active contracts in the workspace currency, kept by the contracts
    # service in the same transaction as every movement, so lists can sort by it.
    mrr: Mapped[int] = mapped_column(default=0, index=True)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    domains: Mapped[list[AccountDomain]] = relationship(
        cascade="all, delete-orphan", order_by="AccountDomain.domain", lazy="selectin"
    )
    tags: Mapped[list[AccountTag]] = relationship(
        cascade="all, delete-orphan", order_by="AccountTag.tag", lazy="selectin"
    )


Index("ix_accounts_updated_id", Account.updated_at, Account.id)
Index("ix_accounts_name_id", Account.name, Account.id)
Index("ix_accounts_mrr_id", Account.mrr, Account.id)
# Filter by segment or business type, sorted by MRR: the customer list's most common view.
Index("ix_accounts_segment_mrr_id", Account.segment, Account.mrr, Account.id)
Index("ix_accounts_industry_mrr_id", Account.industry, Account.mrr, Account.id)


class AccountDomain(Base):
    __tablename__ = "account_domains"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    domain: Mapped[str] = mapped_column(String(253), primary_key=True, index=True)


class AccountTag(Base):
    __tablename__ = "account_tags"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Contact(Versioned, Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    name_kana: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(30), index=True)
    is_key_person: Mapped[bool] = mapped_column(default=False)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ExternalId(Base):
    """An id the same record has in another system (Salesforce, HubSpot, the product, ...)."""

    __tablename__ = "external_ids"
    __table_args__ = (
        UniqueConstraint("entity", "system", "value"),
        Index("ix_external_ids_owner", "entity", "entity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    system: Mapped[str] = mapped_column(String(50))
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomFieldDefinition(Versioned, Base):
    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("entity", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(20))
    label_ja: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    help_text: Mapped[str | None] = mapped_column(Text)


class AccountMerge(Base):
    """A merge of one account into another, with everything needed to see what moved."""

    __tablename__ = "account_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_account_id: Mapped[int] = mapped_column(index=True)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    source_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    moved: Mapped[dict[str, Any]] = mapped_column(JSON)
