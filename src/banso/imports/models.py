"""Saved column mappings for imports (named profiles)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, Timestamped


class ImportProfile(Timestamped, Base):
    __tablename__ = "import_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    entity: Mapped[str] = mapped_column(String(20))
    # {"source column": "banso field"}; banso fields as in the importer's field list.
    mapping: Mapped[dict[str, str]] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
