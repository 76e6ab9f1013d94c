"""Acknowledged means durable: a writer killed with SIGKILL loses no acknowledged event."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from banso.events.store import EventStore
from banso.events.store_files import load_manifest
from tests.events.store_support import rows, stored_ids

# Two threads append through the log (seals run in the background as the log grows) and one
# of them also bulk-loads every tenth batch; each batch id is printed only after its call
# returned, i.e. after the store acknowledged it.
WRITER = textwrap.dedent(
    """
    import sys, threading
    import pyarrow as pa
    from banso.events.schema import EVENT_SCHEMA
    from banso.events.store import EventStore
    from tests.events.store_support import rows

    store = EventStore(sys.argv[1], seal_bytes=100_000)
    printing = threading.Lock()

    def work(thread):
        n = 0
        while True:
            batch = rows(f"{thread}-{n}", 100)
            if thread == "a" and n % 10 == 9:
                for row in batch:
                    row["properties"] = "{}"
                store.append_table(pa.Table.from_pylist(batch, schema=EVENT_SCHEMA))
            else:
                store.append(batch)
            with printing:
                print(f"{thread}-{n}", flush=True)
            n += 1

    for name in "ab":
        threading.Thread(target=work, args=(name,), daemon=True).start()
    threading.Event().wait()
    """
)


def test_it_keeps_every_acknowledged_event_of_a_killed_writer(tmp_path: Path) -> None:
    root = tmp_path / "events"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert child.stdout is not None
    acknowledged = []
    for line in child.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 60:
            break
    os.kill(child.pid, signal.SIGKILL)
    acknowledged += [line.strip() for line in child.stdout]  # printed before the kill landed
    child.stdout.close()
    child.wait()
    assert len(acknowledged) >= 60, "the writer died before it was killed"

    store = EventStore(root)
    try:
        counts = Counter(stored_ids(store))
    finally:
        store.close()
    missing = [f"{b}-{i}" for b in acknowledged for i in range(100) if counts[f"{b}-{i}"] != 1]
    assert missing == []
    assert max(counts.values()) == 1


def _append_garbage(path: Path) -> None:
    with path.open("ab") as f:  # a record header promising more bytes than follow
        f.write(b"BEW1\x00\x10\x00\x00garbage")


def _cut_last_record(path: Path) -> None:
    os.truncate(path, path.stat().st_size - 7)


def _flip_a_byte_of_the_last_record(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage", [_append_garbage, _cut_last_record, _flip_a_byte_of_the_last_record]
)
def test_it_skips_a_torn_or_corrupted_log_tail_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Callable[[Path], None]
) -> None:
    root = tmp_path / "events"
    writer = EventStore(root, seal_bytes=1 << 40)
    writer.append(rows("kept", 5))
    writer.append(rows("last", 3))
    log_file = next((root / "wal").glob("*.wal"))
    writer._wal.close()  # type: ignore[union-attr]  # the writer dies without sealing
    damage(log_file)

    with caplog.at_level(logging.WARNING, logger="banso.events.store"):
        reader = EventStore(root)
        ids = set(stored_ids(reader))
        reader.close()
    assert {f"kept-{i}" for i in range(5)} <= ids
    if damage is not _append_garbage:  # the damaged record itself cannot be read back
        assert not ids & {f"last-{i}" for i in range(3)}
    assert "not a complete, intact record" in caplog.text
    assert list((root / "wal").glob("*.wal")) == []


def test_it_seals_a_live_writers_log_up_to_its_last_complete_record(tmp_path: Path) -> None:
    root = tmp_path / "events"
    writer = EventStore(root, seal_bytes=1 << 40)
    reader = EventStore(root)
    try:
        writer.append(rows("first", 3))
        assert sorted(stored_ids(reader)) == ["first-0", "first-1", "first-2"]
        writer.append(rows("second", 2))
        assert len(stored_ids(reader)) == 5
        assert len(list((root / "wal").glob("*.wal"))) == 1  # still the writer's
    finally:
        writer.close()
        reader.close()
    assert list((root / "wal").glob("*.wal")) == []


def test_it_starts_a_new_log_when_one_grows_big_and_seals_the_old_one_away(
    tmp_path: Path,
) -> None:
    root = tmp_path / "events"
    with EventStore(root, seal_bytes=1 << 40, wal_bytes=10_000) as store:
        for n in range(10):
            store.append(rows(f"r{n}", 50))
        assert len(list((root / "wal").glob("*.wal"))) >= 5
        assert len(stored_ids(store)) == 500
        # the one being written (and the one it just replaced, if that is still closing)
        assert len(list((root / "wal").glob("*.wal"))) <= 2
    assert list((root / "wal").glob("*.wal")) == []


def test_it_seals_a_long_backlog_in_several_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "events"
    writers = [EventStore(root, seal_bytes=1 << 40) for _ in range(3)]
    for n, writer in enumerate(writers):
        writer.append(rows(f"w{n}", 20))
    monkeypatch.setattr("banso.events.store._SEAL_CHUNK", 1)  # commit after every log
    before = load_manifest(root).version
    reader = EventStore(root)  # opening seals what is pending
    try:
        assert len(stored_ids(reader)) == 60
        assert load_manifest(root).version - before >= 3
    finally:
        for store in [*writers, reader]:
            store.close()


# Compacts over and over (each round merges the files the previous one wrote, then new small
# ones arrive), so a kill lands in the middle of a merge, a swap or a clean-up.
COMPACTOR = textwrap.dedent(
    """
    import sys
    from banso.events.store import EventStore
    from tests.events.store_support import rows

    store = EventStore(sys.argv[1], segment_rows=400)
    n = 0
    while True:
        for _ in range(3):
            store.append(rows(f"c{n}", 50))
            store.seal()
            print(f"c{n}", flush=True)
            n += 1
        store.compact()
    """
)


def test_it_loses_nothing_when_killed_while_compacting(tmp_path: Path) -> None:
    root = tmp_path / "events"
    child = subprocess.Popen(
        [sys.executable, "-c", COMPACTOR, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert child.stdout is not None
    acknowledged = []
    for line in child.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 40:
            break
    os.kill(child.pid, signal.SIGKILL)
    acknowledged += [line.strip() for line in child.stdout]
    child.stdout.close()
    child.wait()
    assert len(acknowledged) >= 40, "the compactor died before it was killed"

    with EventStore(root) as store:
        counts = Counter(stored_ids(store))
        with store.snapshot() as snap:
            listed = {f.name for f in snap.files}
    assert {f"{b}-{i}" for b in acknowledged for i in range(50)} <= set(counts)
    assert max(counts.values()) == 1
    assert {p.name for p in (root / "data").iterdir()} == listed  # half-done work removed


def test_it_seals_in_the_background_once_the_log_grows(tmp_path: Path) -> None:
    root = tmp_path / "events"
    with EventStore(root, seal_bytes=20_000) as store:
        for n in range(6):
            store.append(rows(f"r{n}", 50))
        deadline = time.monotonic() + 60
        while load_manifest(root).rows < 100 and time.monotonic() < deadline:
            time.sleep(0.05)  # nobody here seals: only the helper process can
        assert load_manifest(root).rows >= 100
    assert load_manifest(root).rows == 300
