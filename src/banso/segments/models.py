"""A saved segment is a named view of the customer list, shared by everyone in the workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Versioned


class Segment(Versioned, Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The list's query parameters (q, filters, sort, columns) exactly as the list reads them,
    # so a segment opens the same view as the link it was saved from.
    view: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
