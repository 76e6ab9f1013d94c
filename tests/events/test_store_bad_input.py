"""Bad events are refused whole, with the row and column named; nothing of the batch is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from banso.errors import InvalidInput
from banso.events.store import EventStore
from tests.events.store_support import rows, stored_ids, table


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with EventStore(tmp_path / "events") as events:
        events.append(rows("before", 3))
        yield events


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ({"message_id": None}, "row 2.message_id", "required"),
        ({"message_id": ""}, "row 2.message_id", "required"),
        ({"timestamp": None}, "row 2.timestamp", "required"),
        ({"timestamp": "昨日"}, "row 2.timestamp", "not an ISO 8601 time"),
        ({"timestamp": 1700000000}, "row 2.timestamp", "must be a time"),
        ({"type": "purchase"}, "row 2.type", "must be one of"),
        ({"user_id": 42}, "row 2.user_id", "must be text"),
        ({"userId": "u1"}, "row 2.userId", "unknown column"),
        ({"properties": {"when": {1, 2}}}, "row 2.properties", "is not JSON"),
    ],
)
def test_it_refuses_a_batch_with_a_bad_row(
    store: EventStore, change: dict[str, Any], where: str, says: str
) -> None:
    batch = rows("new", 5)
    batch[2].update(change)
    with pytest.raises(InvalidInput) as raised:
        store.append(batch)
    assert [e.field for e in raised.value.errors] == [where]
    assert says in str(raised.value)
    assert sorted(stored_ids(store)) == ["before-0", "before-1", "before-2"]


def test_it_refuses_rows_that_are_not_a_list_of_objects(store: EventStore) -> None:
    with pytest.raises(InvalidInput, match="list of events"):
        store.append({"message_id": "m"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="row 1: must be an object"):
        store.append([rows("ok", 1)[0], "track"])  # type: ignore[list-item]


def test_it_refuses_a_bulk_table_with_missing_or_mistyped_columns(store: EventStore) -> None:
    good = table("bulk", 4)
    without_ts = good.drop_columns(["timestamp"])
    with pytest.raises(InvalidInput, match="timestamp: column is required"):
        store.append_table(without_ts)
    null_id = good.set_column(0, "message_id", pa.array(["a", None, "c", "d"]))
    with pytest.raises(InvalidInput, match=r"row 1\.message_id: is required"):
        store.append_table(null_id)
    text_ts = good.set_column(7, "timestamp", pa.array(["x"] * 4))
    with pytest.raises(InvalidInput, match="timestamp: cannot be read as timestamp"):
        store.append_table(text_ts)
    extra = good.append_column("plan", pa.array(["pro"] * 4))
    with pytest.raises(InvalidInput, match="plan: unknown column"):
        store.append_table(extra)
    assert sorted(stored_ids(store)) == ["before-0", "before-1", "before-2"]


def test_it_accepts_iso_text_times_and_fills_received_at(store: EventStore) -> None:
    batch = rows("iso", 1, timestamp="2026-11-01T09:00:00+09:00")
    store.append(batch)
    with store.snapshot() as snap:
        files = [str(f) for f in snap.files]
        got = duckdb.sql(
            "select timestamp at time zone 'UTC', received_at is not null, properties "
            f"from read_parquet({files}) where message_id = 'iso-0'"
        ).fetchone()
    assert got is not None
    assert str(got[0]) == "2026-11-01 00:00:00"
    assert got[1] is True
    assert got[2] == '{"画面": "ダッシュボード", "i": 0}'
