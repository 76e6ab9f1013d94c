"""Compaction merges small files while readers keep seeing every event exactly once."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from banso.events.schema import rows_to_table
from banso.events.store import EventStore
from tests.events.store_support import rows, stored_ids


def _count(files: list[Path]) -> tuple[int, int]:
    names = [str(f) for f in files]
    result = duckdb.sql(
        f"select count(*), count(distinct message_id) from read_parquet({names})"
    ).fetchone()
    assert result is not None
    return int(result[0]), int(result[1])


def test_it_keeps_concurrent_snapshots_exact_while_compacting(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events", segment_rows=2_000)
    for n in range(30):
        store.append(rows(f"b{n}", 100))
        store.seal()  # thirty small files
    reader = EventStore(tmp_path / "events")
    seen: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read_in_a_loop() -> None:
        try:
            while not done.is_set() or len(seen) < 3:
                with reader.snapshot() as snap:
                    seen.append(_count(snap.files))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=read_in_a_loop)
    thread.start()
    results = [store.compact() for _ in range(2)]
    done.set()
    thread.join()
    try:
        assert errors == []
        assert set(seen) == {(3000, 3000)}
        assert results[0].files_before == 30
        assert results[0].files_after == 2  # 2,000 + 1,000 rows
        assert len(list((tmp_path / "events" / "data").glob("*.parquet"))) == 2
        with store.snapshot() as snap:
            ts = [pq.read_table(f, columns=["timestamp"])[0].to_pylist() for f in snap.files]
        assert all(column == sorted(column) for column in ts)
    finally:
        reader.close()
        store.close()


def test_it_leaves_the_files_of_an_open_snapshot_on_disk(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events", segment_rows=1_000)
    for n in range(4):
        store.append(rows(f"b{n}", 10))
        store.seal()
    with store.snapshot() as snap:
        result = store.compact()
        assert result.merged_files == 4
        assert all(f.exists() for f in snap.files)
        assert _count(snap.files) == (40, 40)
    assert not any(f.exists() for f in snap.files)  # gone once the last reader let go
    with store.snapshot() as after:
        assert len(after.files) == 1
        assert _count(after.files) == (40, 40)
    store.close()


def test_it_merges_nothing_when_there_is_one_small_file(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events") as store:
        store.append(rows("only", 10))
        result = store.compact()
    assert (result.files_before, result.files_after, result.merged_files) == (1, 1, 0)


def test_it_ignores_the_lease_of_a_reader_that_died(tmp_path: Path) -> None:
    root = tmp_path / "events"
    store = EventStore(root, segment_rows=1_000)
    for n in range(3):
        store.append(rows(f"b{n}", 10))
        store.seal()
    with store.snapshot() as snap:
        old = snap.files
    # What a reader killed mid-snapshot leaves: its lease file, with nobody holding its lock.
    (root / "leases" / "dead.json").write_text(json.dumps([f.name for f in old]))
    store.compact()
    assert not any(f.exists() for f in old)
    assert list((root / "leases").iterdir()) == []
    store.close()


def test_it_removes_files_a_crash_left_outside_the_manifest_on_open(tmp_path: Path) -> None:
    root = tmp_path / "events"
    with EventStore(root) as store:
        store.append(rows("kept", 10))
    # A seal that died after writing its segment but before committing the manifest.
    stray = root / "data" / "stray.parquet"
    pq.write_table(rows_to_table(rows("lost", 5)), stray)
    half = root / "data" / ".half.parquet.tmp"
    half.write_bytes(b"PAR1")
    with EventStore(root) as store:
        assert not stray.exists()
        assert not half.exists()
        assert sorted(stored_ids(store)) == sorted(f"kept-{i}" for i in range(10))


def test_it_leaves_files_of_half_the_target_size_or_more_alone(tmp_path: Path) -> None:
    with EventStore(tmp_path / "events", segment_rows=1_000) as store:
        store.append(rows("big", 600))
        store.seal()
        for n in range(3):
            store.append(rows(f"small{n}", 10))
            store.seal()
        result = store.compact()
        assert (result.merged_files, result.rows_merged, result.files_after) == (3, 30, 2)
        assert len(stored_ids(store)) == 630
