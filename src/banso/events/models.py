"""Write keys and usage identities: who the product's users and groups are in banso.

Events themselves live in the event store (``banso.events.store``), not here. These tables
say which account and contact a product user id or group id belongs to, so that metrics can
attribute events late: a link made today counts for last month's events too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow

# How a usage user or group got its account: by an external id, a contact's e-mail, the
# company domain of an e-mail, its group's account, or a person linking it by hand.
LINK_SOURCES = ("external_id", "email", "domain", "name", "group", "manual")


class WriteKey(Base):
    """A secret a product sends its events with; only its sha256 is kept."""

    __tablename__ = "write_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the key, shown in lists so that an admin can tell keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class UsageUser(Base):
    """A user of the product as it identifies them (Segment ``userId``)."""

    __tablename__ = "usage_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    link_source: Mapped[str | None] = mapped_column(String(20))
    traits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageGroup(Base):
    """A group of the product (a workspace, tenant, company: Segment ``groupId``)."""

    __tablename__ = "usage_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    link_source: Mapped[str | None] = mapped_column(String(20))
    traits: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageAlias(Base):
    """An anonymous id or previous id that is known to be ``user_id`` (alias, identify)."""

    __tablename__ = "usage_aliases"

    alias_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageMembership(Base):
    """A product user belongs to a product group (from group calls)."""

    __tablename__ = "usage_memberships"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
