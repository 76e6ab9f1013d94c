"""The write-ahead log: how an appended batch becomes durable before it is acknowledged.

Each ``EventStore`` writes its own log file ``wal/<id>.wal``. A record is a 12-byte header
(magic, payload length, CRC-32 of the payload) followed by the batch as an Arrow IPC stream.
One flusher thread takes every batch queued since its last flush, writes them with one
``write`` and one ``fdatasync`` and only then resolves their futures: concurrent callers share
one flush (group commit), and nobody is told "stored" before the disk has it.

The writer holds an exclusive ``flock`` on its file for as long as it writes to it; a log whose
lock can be taken belongs to a closed or crashed writer, so whatever follows its last complete
record is a torn tail and is skipped.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

log = logging.getLogger(__name__)

MAGIC = b"BEW1"
_HEADER = struct.Struct("<4sII")


def encode_record(table: pa.Table) -> bytes:
    """One log record holding ``table`` (header + Arrow IPC stream)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    payload = sink.getvalue().to_pybytes()
    return _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


@dataclass(frozen=True)
class WalRead:
    """The complete records of a log from an offset on, and where they end."""

    tables: list[pa.Table]
    end: int
    torn: bool  # bytes after ``end`` that do not form a valid record


def read_records(path: Path, offset: int) -> WalRead:
    """Decode the records of ``path`` from ``offset`` up to the last complete, intact one."""
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read()
    tables: list[pa.Table] = []
    pos = 0
    while pos + _HEADER.size <= len(data):
        magic, length, crc = _HEADER.unpack_from(data, pos)
        start, stop = pos + _HEADER.size, pos + _HEADER.size + length
        if magic != MAGIC or stop > len(data) or zlib.crc32(data[start:stop]) != crc:
            break
        tables.append(pa.ipc.open_stream(data[start:stop]).read_all())
        pos = stop
    return WalRead(tables, offset + pos, torn=pos < len(data))


def is_live(path: Path) -> bool:
    """True while a writer holds the log (its process is alive and has not closed it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the lock we may have taken
    return False


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WalWriter:
    """Appends records to this process's log with group commit; rotates big or failed logs."""

    def __init__(self, directory: Path, max_bytes: int = 64 << 20) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.flushes = 0  # write+fsync rounds, each covering every batch queued before it
        self.records = 0
        self._cond = threading.Condition()
        self._queue: list[tuple[bytes, Future[None]]] = []
        self._closing = False
        self._flushing = False  # one flush at a time, by the flusher thread or a leading caller
        self._fd = -1
        self.path = self._open_new()
        self._size = 0
        self._thread = threading.Thread(target=self._run, name="banso-wal-flush", daemon=True)
        self._thread.start()

    def _open_new(self) -> Path:
        # Lock before the file gets its .wal name, so no sealer ever sees it unlocked and empty.
        name = uuid.uuid4().hex
        tmp = self.directory / f".{name}.new"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = self.directory / f"{name}.wal"
        os.rename(tmp, path)
        fsync_dir(self.directory)
        self._fd, self._size = fd, 0
        return path

    def submit(self, record: bytes, lead: bool = False) -> Future[None]:
        """Queue a record; the future resolves once it is on disk (or fails with the OSError).

        With ``lead`` (a caller that is going to block anyway) the calling thread writes and
        syncs the queue itself when no flush is running, sparing two thread hand-offs; async
        callers leave it to the flusher thread so that their event loop never waits on disk.
        """
        future: Future[None] = Future()
        with self._cond:
            if self._closing:
                raise RuntimeError("the event store is closed")
            self._queue.append((record, future))
            if self._flushing or not lead:
                self._cond.notify()
                return future
            self._flushing = True
        self._lead_until(future)
        return future

    def _lead_until(self, own: Future[None]) -> None:
        while True:
            with self._cond:
                batch, self._queue = self._queue, []
            if batch:
                self._flush(batch)
            if own.done() or not batch:
                with self._cond:
                    self._flushing = False
                    self._cond.notify()  # records queued meanwhile go to the flusher thread
                return

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue or self._flushing:
                    if self._closing and not self._queue and not self._flushing:
                        return
                    self._cond.wait()
                self._flushing = True
                batch, self._queue = self._queue, []
            self._flush(batch)
            with self._cond:
                self._flushing = False

    def _flush(self, batch: list[tuple[bytes, Future[None]]]) -> None:
        data = b"".join(record for record, _ in batch)
        try:
            _write_all(self._fd, data)
            os.fdatasync(self._fd)
        except OSError as exc:
            log.error("event log %s: write failed (%s); starting a new log", self.path, exc)
            for _, future in batch:
                _settle(future, exc)
            self._rotate()
            return
        self._size += len(data)
        self.flushes += 1
        self.records += len(batch)
        for _, future in batch:
            _settle(future, None)
        if self._size >= self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        old = self._fd
        self.path = self._open_new()
        os.close(old)  # releases its lock: the old log is now sealable to its end and removable

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _settle(future: Future[None], error: BaseException | None) -> None:
    # An async caller that gave up (a client that disconnected) cancels its future; the
    # record stays written, unacknowledged, and the others must still hear back.
    try:
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
    except InvalidStateError:
        return


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def wal_files(directory: Path) -> Iterator[Path]:
    return (p for p in sorted(directory.glob("*.wal")) if p.is_file())
