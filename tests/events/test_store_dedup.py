"""A message_id is stored once, whether it is retried through the log or bulk-loaded again."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from banso.events.store import EventStore
from tests.events.store_support import rows, stored_ids, table


def test_it_keeps_a_retried_batch_once(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events") as store:
        store.append(rows("retry", 20))
        store.append(rows("retry", 20))  # the client timed out and sent it again
        assert sorted(Counter(stored_ids(store)).values()) == [1] * 20
        store.append(rows("retry", 20))  # and again, after it was sealed
        assert len(stored_ids(store)) == 20


def test_it_keeps_the_first_of_repeated_ids_within_one_batch(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events") as store:
        batch = rows("same", 3) + rows("same", 3, event="二回目")
        store.append(batch)
        with store.snapshot() as snap:
            events = duckdb.sql(
                f"select distinct event from read_parquet({[str(f) for f in snap.files]})"
            ).fetchall()
    assert events == [("ログイン",)]


def test_it_deduplicates_between_the_log_and_bulk_loads(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events") as store:
        store.append(rows("e", 50))  # still in the log, not sealed yet
        assert store.append_table(table("e", 80)) == 30
        assert store.append_table(table("e", 80)) == 0  # the same file imported twice
        store.append(rows("e", 100))
        assert sorted(Counter(stored_ids(store)).values()) == [1] * 100


def test_it_deduplicates_against_events_stored_before_reopening(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events") as store:
        assert store.append_table(table("old", 1000)) == 1000
    with EventStore(tmp_path / "events") as store:
        store.append(rows("old", 10))
        assert store.append_table(table("old", 1001)) == 1
        assert len(stored_ids(store)) == 1001


def test_it_keeps_ids_that_merely_share_a_prefix(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events") as store:
        store.append(rows("x", 1, message_id="abc"))
        store.append(rows("x", 1, message_id="abc "))
        store.append(rows("x", 1, message_id="ａｂｃ"))
        assert sorted(stored_ids(store)) == ["abc", "abc ", "ａｂｃ"]


def test_it_still_knows_every_id_after_merging_index_runs(tmp_path: Path) -> None:
    root = tmp_path / "events"
    with EventStore(root) as store:
        for n in range(20):
            store.append(rows(f"r{n}", 5))
            store.seal()  # one index run per seal, merged as they pile up
        assert len(list((root / "index").glob("*.npy"))) <= 9
        for n in range(20):
            store.append(rows(f"r{n}", 5))
        assert len(stored_ids(store)) == 100
