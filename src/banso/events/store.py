"""The event store: usage events as append-only Parquet files that DuckDB and Spark read as-is.

How an event travels (see store_files for the directory layout):

1. ``append`` checks the batch, writes it to this process's write-ahead log and returns once a
   flush (one write + fdatasync shared by every concurrent caller) has it on disk.
2. Sealing (in a helper process past ``seal_bytes``, on every ``snapshot`` and on ``close``) moves
   the complete records of every log, of live and crashed writers alike, into a Parquet segment,
   drops message_ids the store already holds, and commits the segment and the logs' new offsets
   in one atomic manifest replacement, under an inter-process lock.
3. ``append_table`` takes the bulk road: checked, de-duplicated, written as segments, durable on
   return, no log involved.
4. ``compact`` merges small segments into large ones sorted by timestamp and swaps them in the
   manifest atomically; files an open snapshot reads stay on disk until it closes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from banso.events.schema import EVENT_SCHEMA, EventRow, conform_table, rows_to_table
from banso.events.store_files import (
    Lease,
    Manifest,
    Segment,
    file_lock,
    leased_files,
    load_manifest,
    save_manifest,
)
from banso.events.store_index import MessageIdIndex, first_occurrences, hash_ids
from banso.events.store_sealer import SealHelper
from banso.events.store_wal import (
    WalRead,
    WalWriter,
    encode_record,
    fsync_dir,
    is_live,
    read_records,
    wal_files,
)

log = logging.getLogger(__name__)

SEGMENT_ROWS = 500_000  # rows per compacted file: big enough for scans, small enough to sort in RAM
_ROW_GROUP = 128 * 1024
_SEAL_CHUNK = 128 << 20


@dataclass(frozen=True)
class Snapshot:
    """A consistent view: together the files hold every acknowledged event exactly once."""

    files: list[Path]
    rows: int
    version: int


@dataclass(frozen=True)
class CompactionResult:
    files_before: int
    files_after: int
    merged_files: int
    rows_merged: int
    seconds: float


class EventStore:
    """Usage events under ``root`` (normally ``<data dir>/events``); safe across threads and
    processes. Open one per process and close it on shutdown (it seals what it logged)."""

    def __init__(
        self,
        root: Path,
        *,
        seal_bytes: int = 32 << 20,
        wal_bytes: int = 64 << 20,
        segment_rows: int = SEGMENT_ROWS,
    ) -> None:
        self.root = Path(root)
        for sub in ("data", "wal", "index", "leases"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.seal_bytes = seal_bytes
        self.wal_bytes = wal_bytes
        self.segment_rows = segment_rows
        self._index = MessageIdIndex(self.root / "index")
        self._retired_runs: list[str] = []
        self._wal: WalWriter | None = None
        self._wal_lock = threading.Lock()
        self._logged_since_seal = 0
        self._closed = False
        self._sealer: SealHelper | None = None
        self._recover()

    # -- writing -------------------------------------------------------------------------
    def append(self, rows: Sequence[EventRow]) -> None:
        """Store ``rows``; returns once they are durable. Raises InvalidInput (nothing stored)."""
        if not rows:
            return
        record = encode_record(rows_to_table(rows))
        self._writer().submit(record, lead=True).result()
        self._note_logged(len(record))

    async def append_async(self, rows: Sequence[EventRow]) -> None:
        """``append`` for async code: waits for the shared flush without blocking the loop."""
        if not rows:
            return
        record = encode_record(rows_to_table(rows))
        await asyncio.wrap_future(self._writer().submit(record))
        self._note_logged(len(record))

    def append_table(self, table: pa.Table) -> int:
        """Bulk-load ``table`` straight into Parquet; durable on return. Returns the rows added
        (rows whose message_id is already stored, or repeated in the table, are skipped)."""
        conformed = conform_table(table)
        if conformed.num_rows == 0:
            return 0
        with self._store_lock():
            self._seal_locked()  # so ids still in a log count as stored
            manifest = load_manifest(self.root)
            added = self._add_locked(manifest, conformed, compression="zstd")
            if added:
                self._commit_locked(manifest)
        return added

    @property
    def flushes(self) -> int:
        """Log flushes (write + fdatasync) done by this store so far."""
        return self._wal.flushes if self._wal else 0

    @property
    def logged_batches(self) -> int:
        return self._wal.records if self._wal else 0

    def _writer(self) -> WalWriter:
        with self._wal_lock:
            if self._closed:
                raise RuntimeError("the event store is closed")
            if self._wal is None:
                self._wal = WalWriter(self.root / "wal", self.wal_bytes)
            return self._wal

    def _note_logged(self, size: int) -> None:
        self._logged_since_seal += size
        if self._logged_since_seal < self.seal_bytes:
            return
        self._logged_since_seal = 0
        with self._wal_lock:
            if self._closed:
                return
            if self._sealer is None:
                self._sealer = SealHelper(self.root)
            sealer = self._sealer
        sealer.request()

    # -- sealing -------------------------------------------------------------------------
    def seal(self) -> int:
        """Move every complete logged record into Parquet; returns the new rows stored."""
        with self._store_lock():
            return self._seal_locked()

    def _seal_locked(self) -> int:
        # Commit every _SEAL_CHUNK bytes of log, so a long backlog never sits in memory at once.
        manifest = load_manifest(self.root)
        added, size = 0, 0
        reads: list[tuple[Path, bool, WalRead | None]] = []
        for path in wal_files(self.root / "wal"):
            live = is_live(path)
            offset = manifest.wal_offsets.get(path.stem, 0)
            read = read_records(path, offset) if path.stat().st_size > offset else None
            if read and read.torn and not live:
                log.warning(
                    "event log %s ends with %d bytes that are not a complete, intact record "
                    "(its writer stopped mid-write, or the disk damaged it); they are skipped",
                    path,
                    path.stat().st_size - read.end,
                )
            reads.append((path, live, read))
            size += read.end - offset if read else 0
            if size >= _SEAL_CHUNK:
                added += self._seal_reads_locked(manifest, reads)
                reads, size = [], 0
        return added + self._seal_reads_locked(manifest, reads)

    def _seal_reads_locked(
        self, manifest: Manifest, reads: list[tuple[Path, bool, WalRead | None]]
    ) -> int:
        tables = [t for _, _, read in reads if read for t in read.tables]
        added = self._add_locked(manifest, pa.concat_tables(tables)) if tables else 0
        finished = [path for path, live, _ in reads if not live]
        for path, _, read in reads:
            if read:
                manifest.wal_offsets[path.stem] = read.end
        for path in finished:
            manifest.wal_offsets.pop(path.stem, None)
        if tables or finished:
            self._commit_locked(manifest)
        for path in finished:  # re-reading one after a crash here is harmless: ids are known
            path.unlink(missing_ok=True)
        return added

    def _add_locked(self, manifest: Manifest, table: pa.Table, compression: str = "snappy") -> int:
        """Write the rows of ``table`` whose message_id is new; list them in ``manifest``."""
        self._index.sync(manifest.index_runs)
        hashes = hash_ids(table.column("message_id"))
        first = first_occurrences(hashes)
        if len(first) < table.num_rows:
            table, hashes = table.take(pa.array(first)), hashes[first]
        new = ~self._index.contains(hashes)
        if not new.all():
            table, hashes = table.filter(pa.array(new)), hashes[new]
        if table.num_rows == 0:
            return 0
        for start in range(0, table.num_rows, self.segment_rows):
            chunk = table.slice(start, self.segment_rows)
            manifest.segments.append(self._write_segment(chunk, compression))
        manifest.index_runs.append(self._index.write_run(hashes))
        small = self._index.small_runs()
        if small:
            merged = self._index.merge(small)
            manifest.index_runs = [n for n in manifest.index_runs if n not in small] + [merged]
            self._retired_runs += small
        fsync_dir(self.root / "data")
        fsync_dir(self.root / "index")
        return table.num_rows

    def _commit_locked(self, manifest: Manifest) -> None:
        save_manifest(self.root, manifest)
        listed = set(manifest.index_runs)
        for name in self._retired_runs:  # merged into a run the manifest now lists
            if name not in listed:
                (self.root / "index" / f"{name}.npy").unlink(missing_ok=True)
        self._retired_runs = []

    def _write_segment(self, table: pa.Table, compression: str) -> Segment:
        name = f"{uuid.uuid4().hex}.parquet"
        tmp = self.root / "data" / f".{name}.tmp"
        pq.write_table(table, tmp, compression=compression, row_group_size=_ROW_GROUP)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, self.root / "data" / name)
        bounds = pc.min_max(table.column("timestamp"))
        return Segment(
            name,
            table.num_rows,
            bounds["min"].as_py().isoformat(),
            bounds["max"].as_py().isoformat(),
        )

    # -- reading -------------------------------------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """Seal pending events, then hand out the current files; they stay while it is open."""
        with self._store_lock():
            self._seal_locked()
            manifest = load_manifest(self.root)
            names = [s.name for s in manifest.segments]
            lease = Lease(self.root / "leases", names)
        try:
            yield Snapshot([self.root / "data" / n for n in names], manifest.rows, manifest.version)
        finally:
            lease.release()
            self._collect_garbage_if_replaced(names)

    # -- compaction ----------------------------------------------------------------------
    def compact(self) -> CompactionResult:
        """Merge segments under half of ``segment_rows`` into files of up to that size, each
        sorted by timestamp (metrics scan time ranges; sorted files let them skip row groups)."""
        started = time.perf_counter()
        with file_lock(self.root / "compact.lock"):
            with self._store_lock():
                self._seal_locked()
                manifest = load_manifest(self.root)
            before = len(manifest.segments)
            groups = _plan_merges(manifest.segments, self.segment_rows)
            outputs = [self._merge(group) for group in groups]
            if outputs:
                fsync_dir(self.root / "data")
            if outputs:
                with self._store_lock():
                    manifest = load_manifest(self.root)
                    self._swap_locked(manifest, groups, outputs)
                    save_manifest(self.root, manifest)
                    self._collect_garbage_locked(manifest, compacting=True)
        return CompactionResult(
            files_before=before,
            files_after=len(manifest.segments),
            merged_files=sum(len(g) for g in groups),
            rows_merged=sum(s.rows for g in groups for s in g),
            seconds=time.perf_counter() - started,
        )

    def _merge(self, group: list[Segment]) -> Segment:
        files = [self.root / "data" / s.name for s in group]
        table = pa.concat_tables(pq.read_table(f, schema=EVENT_SCHEMA) for f in files)
        return self._write_segment(table.sort_by("timestamp"), compression="zstd")

    def _swap_locked(
        self, manifest: Manifest, groups: list[list[Segment]], outputs: list[Segment]
    ) -> None:
        # Only compaction removes segments and it holds compact.lock, so the inputs are all
        # still listed; seals done meanwhile only appended.
        replaced = {s.name for group in groups for s in group}
        manifest.segments = [s for s in manifest.segments if s.name not in replaced] + outputs

    def _collect_garbage_if_replaced(self, names: list[str]) -> None:
        with self._store_lock():
            manifest = load_manifest(self.root)
            current = {s.name for s in manifest.segments}
            if any(n not in current for n in names):
                self._collect_garbage_locked(manifest, compacting=False)

    def _collect_garbage_locked(self, manifest: Manifest, compacting: bool) -> None:
        """Delete files the manifest no longer lists and no live snapshot reads."""
        runs = set(manifest.index_runs)
        for path in (self.root / "index").glob("*.npy"):
            if path.stem not in runs:
                path.unlink(missing_ok=True)
        with file_lock(self.root / "compact.lock", blocking=False) as free:
            if not (free or compacting):
                return  # a compaction is writing files it has not listed yet
            keep = {s.name for s in manifest.segments} | leased_files(self.root / "leases")
            for path in (self.root / "data").iterdir():
                if path.name not in keep:
                    path.unlink(missing_ok=True)

    # -- lifecycle -----------------------------------------------------------------------
    def _store_lock(self) -> AbstractContextManager[bool]:
        return file_lock(self.root / "store.lock")

    def _recover(self) -> None:
        """Seal what crashed writers logged and drop files a crash left half-written."""
        with self._store_lock():
            self._seal_locked()
            self._collect_garbage_locked(load_manifest(self.root), compacting=False)

    def close(self) -> None:
        """Flush and release this store's log, then seal it so the log can be removed."""
        with self._wal_lock:
            if self._closed:
                return
            self._closed = True
            wal, sealer = self._wal, self._sealer
        if sealer:
            sealer.stop()
        if wal:
            wal.close()
            self.seal()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _plan_merges(segments: list[Segment], target_rows: int) -> list[list[Segment]]:
    """Groups of two or more small segments, in time order, each up to ``target_rows``.

    A segment of half the target or more is left alone, so that a big file is not rewritten
    again and again to take in a few new rows."""
    small = sorted((s for s in segments if s.rows < target_rows // 2), key=lambda s: s.min_ts)
    groups: list[list[Segment]] = []
    current: list[Segment] = []
    for segment in small:
        if current and sum(s.rows for s in current) + segment.rows > target_rows:
            groups.append(current)
            current = []
        current.append(segment)
    groups.append(current)
    return [g for g in groups if len(g) >= 2]


def compact(root: Path) -> CompactionResult:
    """Maintenance entry point (``banso events compact``): compact the store under ``root``."""
    with EventStore(root) as store:
        return store.compact()


def default_root(data_dir: Path) -> Path:
    """Where the event store of a data directory lives."""
    return Path(data_dir) / "events"
