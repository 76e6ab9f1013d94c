"""Helpers for the document search tests: a document with defaults, and the refs a query finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from banso.search.documents import Doc, search

BASE = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)


def doc(ref_id: int, title: str, body: str = "", **fields: Any) -> Doc:
    values: dict[str, Any] = {
        "kind": "timeline_entry",
        "ref_id": ref_id,
        "account_id": None,
        "author_id": None,
        "occurred_at": BASE + timedelta(hours=ref_id),
        "title": title,
        "body": body,
        "url": f"/timeline/{ref_id}",
    }
    values.update(fields)
    return Doc(**values)


def refs(session: Session, q: str, **filters: Any) -> set[int]:
    return {h.ref_id for h in search(session, q, limit=100, **filters).hits}
