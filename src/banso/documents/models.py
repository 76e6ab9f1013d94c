"""Revisions: every saved state of a written document (timeline entry, meeting, page, profile)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class Revision(Base):
    """One saved version of a document: who saved it, when, and its fields at that version.

    ``entity`` names the kind of document ("timeline_entry", "meeting", "meeting_item",
    "knowledge_page", "account_profile", ...), ``version`` is the document's version after the
    save, so the revision a writer started from is found by the version their form carried,
    which is what a three-way merge needs.
    """

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    version: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)


Index("ix_revisions_entity", Revision.entity, Revision.entity_id, Revision.version, unique=True)
