"""Knowledge pages and their tags; every saved version is a revision (banso.documents)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned

PAGE_KINDS = ("principle", "playbook", "template", "other")


class KnowledgePage(Versioned, Base):
    __tablename__ = "knowledge_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # A template page can start a meeting agenda: each "## heading" becomes an item (論点),
    # the text under it our stance.
    is_template: Mapped[bool] = mapped_column(default=False)
    is_archived: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class KnowledgeTag(Base):
    __tablename__ = "knowledge_tags"

    page_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_pages.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
