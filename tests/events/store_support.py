"""Helpers for the event store tests: rows, and reading what a snapshot holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from banso.events.schema import EVENT_SCHEMA, EventRow
from banso.events.store import EventStore

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def rows(prefix: str, n: int, **columns: Any) -> list[EventRow]:
    """``n`` track events with message ids ``<prefix>-0`` ... ``<prefix>-<n-1>``."""
    return [
        {
            "message_id": f"{prefix}-{i}",
            "type": "track",
            "event": "ログイン",
            "user_id": f"user-{i % 7}",
            "timestamp": T0 + timedelta(seconds=i),
            "properties": {"画面": "ダッシュボード", "i": i},
            "source": "web",
            **columns,
        }
        for i in range(n)
    ]


def table(prefix: str, n: int) -> pa.Table:
    """The same events as ``rows`` as an Arrow table (properties as JSON text)."""
    data = rows(prefix, n, properties='{"画面": "ダッシュボード"}')
    return pa.Table.from_pylist(data, schema=EVENT_SCHEMA)


def stored_ids(store: EventStore) -> list[str]:
    """Every message_id a fresh snapshot shows, duplicates included."""
    with store.snapshot() as snap:
        return [
            i for f in snap.files for i in pq.read_table(f, columns=["message_id"])[0].to_pylist()
        ]
