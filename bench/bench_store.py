"""Event store benchmark: durable appends, bulk loads, compaction and DuckDB reads.

    .venv/bin/python -m bench.bench_store                 # 300,000 events through the log
    .venv/bin/python -m bench.bench_store --batches 1000 --bulk 20000000

Ingestion is measured without HTTP: each batch is a Segment-style JSON body of 100 events that
is parsed, mapped to event rows and appended; the call returns only after the shared fsync, as
an HTTP handler would before its 200. Writer threads play concurrent requests; ``--processes 2``
runs that many writer processes on one store (as several ``banso serve`` workers would).
Bulk load, the message_id index, compaction and a DuckDB scan of a snapshot follow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import resource
import shutil
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from banso.events.schema import EVENT_SCHEMA, EventRow
from banso.events.store import EventStore
from banso.events.store_index import MessageIdIndex, hash_ids

OUT = Path(__file__).parent / "out" / "events"
EVENTS = ("ログイン", "Report Viewed", "Dashboard Opened", "Export Created", "設定変更")


def segment_body(rng: random.Random, n: int, start: datetime) -> bytes:
    """A /v1/batch body as analytics-python sends it."""
    batch = []
    for i in range(n):
        user = rng.randrange(50_000)
        batch.append(
            {
                "type": "track",
                "event": rng.choice(EVENTS),
                "userId": f"user-{user}",
                "messageId": str(uuid.uuid4()),
                "timestamp": (start + timedelta(seconds=i)).isoformat(),
                "properties": {"plan": "pro", "page": f"/reports/{rng.randrange(300)}"},
                "context": {
                    "library": {"name": "analytics-python", "version": "2.3.4"},
                    "groupId": f"acct-{user % 2000}",
                    "ip": "192.0.2.10",
                },
            }
        )
    return json.dumps({"batch": batch, "sentAt": start.isoformat()}).encode()


def to_rows(body: bytes, received_at: datetime) -> list[EventRow]:
    """The parse + mapping an ingestion endpoint does before it appends."""
    rows = []
    for msg in json.loads(body)["batch"]:
        context = msg.get("context") or {}
        rows.append(
            {
                "message_id": msg["messageId"],
                "type": msg["type"],
                "event": msg.get("event"),
                "user_id": msg.get("userId"),
                "anonymous_id": msg.get("anonymousId"),
                "group_id": context.get("groupId"),
                "timestamp": msg.get("timestamp") or received_at,
                "received_at": received_at,
                "properties": json.dumps(msg.get("properties") or {}, ensure_ascii=False),
                "context": json.dumps(context, ensure_ascii=False),
                "source": "bench",
            }
        )
    return rows


def _bodies(seed: int, batches: int) -> list[bytes]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [segment_body(rng, 100, start + timedelta(minutes=i)) for i in range(batches)]


def ingest(root: Path, bodies: list[bytes], threads: int) -> dict[str, Any]:
    """Append every body from ``threads`` threads; returns rate, latencies and flush count."""
    store = EventStore(root)
    latencies: list[float] = []
    next_body = iter(range(len(bodies)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                i = next(next_body, None)
            if i is None:
                return
            began = time.perf_counter()
            store.append(to_rows(bodies[i], datetime.now(UTC)))
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - began
    flushes = store.flushes
    store.close()
    return {"seconds": seconds, "latencies": latencies, "flushes": flushes}


def ingest_async(root: Path, bodies: list[bytes], tasks: int) -> dict[str, Any]:
    """The same from ``tasks`` coroutines on one event loop, as an async HTTP server runs."""
    store = EventStore(root)
    latencies: list[float] = []
    next_body = iter(range(len(bodies)))

    async def work() -> None:
        for i in next_body:
            began = time.perf_counter()
            await store.append_async(to_rows(bodies[i], datetime.now(UTC)))
            latencies.append(time.perf_counter() - began)

    async def run_all() -> None:
        await asyncio.gather(*(work() for _ in range(tasks)))

    began = time.perf_counter()
    asyncio.run(run_all())
    seconds = time.perf_counter() - began
    flushes = store.flushes
    store.close()
    return {"seconds": seconds, "latencies": latencies, "flushes": flushes}


def _child(root: str, seed: int, batches: int, threads: int, queue: Any) -> None:
    bodies = _bodies(seed, batches)
    if threads < 0:
        queue.put(ingest_async(Path(root), bodies, -threads))
    else:
        queue.put(ingest(Path(root), bodies, threads))


def measure_ingest(root: Path, batches: int, threads: int, processes: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    children = [
        ctx.Process(target=_child, args=(str(root), 7 + p, batches, threads, queue))
        for p in range(processes)
    ]
    for c in children:
        c.start()
    results = [queue.get() for _ in children]
    for c in children:
        c.join()
    latencies = sorted(x for r in results for x in r["latencies"])
    seconds = max(r["seconds"] for r in results)
    return {
        "events": len(latencies) * 100,
        "events_per_s": len(latencies) * 100 / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "appends_per_flush": len(latencies) / sum(r["flushes"] for r in results),
    }


def measure_store_only(root: Path, batches: int) -> dict[str, Any]:
    """The store's own share: rows already parsed and mapped, one thread, durable appends."""
    prepared = [to_rows(body, datetime.now(UTC)) for body in _bodies(99, batches)]
    store = EventStore(root)
    latencies = []
    began = time.perf_counter()
    for rows in prepared:
        t = time.perf_counter()
        store.append(rows)
        latencies.append(time.perf_counter() - t)
    seconds = time.perf_counter() - began
    store.close()
    latencies.sort()
    return {
        "events_per_s": batches * 100 / seconds,
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def measure_index(root: Path, size: int) -> dict[str, Any]:
    """The message_id index at ``size`` stored events: load, and checking a batch against it."""
    directory = root / "index-bench"
    directory.mkdir(parents=True)
    rng = np.random.default_rng(1)
    writer = MessageIdIndex(directory)
    name = writer.write_run(rng.integers(0, 2**63, size=(size, 2), dtype=np.uint64))
    del writer
    index = MessageIdIndex(directory)
    began = time.perf_counter()
    index.sync([name])
    load = time.perf_counter() - began
    ids = pa.array([uuid.uuid4().hex for _ in range(100)])
    began = time.perf_counter()
    for _ in range(100):
        index.contains(hash_ids(ids))
    check = (time.perf_counter() - began) / 100
    shutil.rmtree(directory)
    return {"load_s": load, "check_ms": 1000 * check, "mb": size * 16 / 2**20}


def bulk_table(n: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    users = [f"user-{rng.randrange(50_000)}" for _ in range(n)]
    return pa.table(
        {
            "message_id": [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(n)],
            "type": pa.array(["track"] * n),
            "event": [EVENTS[i % len(EVENTS)] for i in range(n)],
            "user_id": users,
            "group_id": [f"acct-{i % 2000}" for i in range(n)],
            "timestamp": pa.array(
                [start + timedelta(seconds=i * 3) for i in range(n)],
                type=EVENT_SCHEMA.field(7).type,
            ),
            "properties": pa.array(['{"plan": "pro"}'] * n),
        }
    )


def measure_bulk(root: Path, rows: int) -> dict[str, Any]:
    store = EventStore(root)
    chunk = min(rows, 1_000_000)
    seconds = 0.0
    for start in range(0, rows, chunk):
        table = bulk_table(min(chunk, rows - start), seed=start)
        began = time.perf_counter()
        store.append_table(table)
        seconds += time.perf_counter() - began
    began = time.perf_counter()
    again = store.append_table(table)  # the last chunk imported twice: all duplicates
    reimport = time.perf_counter() - began
    store.close()
    return {
        "rows_per_s": rows / seconds,
        "reimport_rows_per_s": table.num_rows / reimport,
        "reimport_added": again,
    }


def measure_compaction_and_reads(root: Path) -> dict[str, Any]:
    store = EventStore(root)
    result = store.compact()
    with store.snapshot() as snap:
        files = [str(f) for f in snap.files]
        began = time.perf_counter()
        counts = duckdb.sql(
            "select count(*), count(distinct message_id), count(distinct user_id) "
            f"from read_parquet({files})"
        ).fetchone()
        scan = time.perf_counter() - began
    store.close()
    assert counts is not None and counts[0] == counts[1], counts
    return {
        "compaction_s": result.seconds,
        "files": f"{result.files_before} -> {result.files_after}",
        "rows": counts[0],
        "scan_rows_per_s": counts[0] / scan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=3000, help="batches of 100 per process")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--bulk", type=int, default=2_000_000, help="rows for append_table")
    parser.add_argument("--index", type=int, default=20_000_000, help="ids in the index case")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    root = OUT / "store"
    alone = measure_store_only(OUT / "alone", args.batches)
    print(
        f"store alone (rows already mapped, 1 thread): {alone['events_per_s']:,.0f} events/s, "
        f"p99 {alone['p99_ms']:.1f} ms\n"
    )
    print("| writers | events | events/s | p50 ms | p99 ms | appends per fsync |")
    print("| --- | --- | --- | --- | --- | --- |")
    # A negative thread count means that many coroutines on one event loop.
    cases = [(1, t) for t in args.threads] + [(1, -32), (args.processes, -32)]
    for processes, threads in cases:
        r = measure_ingest(root, args.batches, threads, processes)
        writers = f"{threads} threads" if threads > 0 else f"{-threads} async tasks"
        print(
            f"| {processes} process x {writers} | {r['events']:,} "
            f"| {r['events_per_s']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['appends_per_flush']:.1f} |",
            flush=True,
        )
    index = measure_index(OUT, args.index)
    print(
        f"\nmessage_id index of {args.index:,} ids ({index['mb']:,.0f} MB): loaded in "
        f"{index['load_s']:.2f} s; checking a batch of 100 ids: {index['check_ms']:.2f} ms"
    )
    bulk = measure_bulk(root, args.bulk)
    print(
        f"append_table: {bulk['rows_per_s']:,.0f} rows/s; the last chunk again: "
        f"{bulk['reimport_rows_per_s']:,.0f} rows/s, {bulk['reimport_added']} added"
    )
    reads = measure_compaction_and_reads(root)
    print(
        f"compaction: {reads['files']} files in {reads['compaction_s']:.1f} s; DuckDB scan of "
        f"{reads['rows']:,} rows (count, 2 x count distinct): {reads['scan_rows_per_s']:,.0f} "
        f"rows/s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
