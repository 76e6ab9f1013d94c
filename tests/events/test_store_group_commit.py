"""Concurrent appends share flushes (group commit), for threads and for async callers."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from banso.events.store import EventStore
from tests.events.store_support import rows, stored_ids


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts data syncs; each takes 2 ms, as on a disk that really persists (this test
    machine's virtual disk answers in 0.2 ms, faster than a batch is prepared)."""
    calls: list[int] = []
    real: Callable[[int], None] = os.fdatasync

    def counted(fd: int) -> None:
        calls.append(fd)
        time.sleep(0.002)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counted)
    return calls


def test_it_shares_one_flush_between_concurrent_threads(tmp_path: Path, fsyncs: list[int]) -> None:
    store = EventStore(tmp_path / "events")
    start = threading.Barrier(8)

    def work(thread: int) -> None:
        start.wait()
        for n in range(25):
            store.append(rows(f"{thread}-{n}", 10))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert store.logged_batches == 200
        assert len(fsyncs) == store.flushes
        assert len(fsyncs) < 200 / 2  # one sync per append would be 200
        assert len(set(stored_ids(store))) == 2000
    finally:
        store.close()


def test_it_shares_flushes_between_async_callers_without_blocking_the_loop(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    store = EventStore(tmp_path / "events")
    ticks = 0

    async def ticker(stop: asyncio.Event) -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    async def main() -> None:
        stop = asyncio.Event()
        tick_task = asyncio.create_task(ticker(stop))
        await asyncio.gather(*(store.append_async(rows(f"c{n}", 10)) for n in range(100)))
        stop.set()
        await tick_task

    asyncio.run(main())
    try:
        assert store.logged_batches == 100
        assert len(fsyncs) < 100 / 2
        assert ticks > 0  # the loop kept running while the appends waited for the disk
        assert len(set(stored_ids(store))) == 1000
    finally:
        store.close()


def test_it_returns_only_after_the_log_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = threading.Event()
    real: Callable[[int], None] = os.fdatasync

    def waits_for_the_disk(fd: int) -> None:
        disk.wait(10)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", waits_for_the_disk)
    store = EventStore(tmp_path / "events")
    caller = threading.Thread(target=store.append, args=(rows("a", 5),))
    caller.start()
    caller.join(0.3)
    assert caller.is_alive()  # written, but not yet synced: not acknowledged
    disk.set()
    caller.join(10)
    assert not caller.is_alive()
    assert len(stored_ids(store)) == 5
    store.close()


def test_it_reports_a_failed_sync_and_carries_on_in_a_new_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[[int], None] = os.fdatasync
    failures = [OSError(5, "Input/output error")]

    def fails_once(fd: int) -> None:
        if failures:
            raise failures.pop()
        real(fd)

    monkeypatch.setattr(os, "fdatasync", fails_once)
    root = tmp_path / "events"
    with EventStore(root, seal_bytes=1 << 40) as store:
        with pytest.raises(OSError, match="Input/output error"):
            store.append(rows("unsure", 5))  # not acknowledged: the client will retry
        store.append(rows("after", 5))
        assert len(list((root / "wal").glob("*.wal"))) == 2  # the failed log was set aside
        ids = stored_ids(store)
    assert {f"after-{i}" for i in range(5)} <= set(ids)
    assert len(ids) == len(set(ids))


def test_it_keeps_flushing_after_an_async_caller_gave_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = threading.Event()
    real: Callable[[int], None] = os.fdatasync

    def waits_for_the_disk(fd: int) -> None:
        disk.wait(10)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", waits_for_the_disk)
    store = EventStore(tmp_path / "events")

    async def main() -> None:
        impatient = asyncio.create_task(store.append_async(rows("gave-up", 5)))
        await asyncio.sleep(0.1)
        impatient.cancel()  # as when an HTTP client disconnects mid-request
        disk.set()
        await asyncio.wait_for(store.append_async(rows("later", 5)), 10)

    asyncio.run(main())
    try:
        assert {f"later-{i}" for i in range(5)} <= set(stored_ids(store))
    finally:
        store.close()
