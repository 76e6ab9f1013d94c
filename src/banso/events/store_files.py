"""The store's directory: manifest, locks and snapshot leases.

Layout of a store root::

    manifest.json       the Parquet files that make up the store, the index runs, and how far
                        each write-ahead log has been sealed; replaced atomically
    data/*.parquet      immutable segments (EVENT_SCHEMA); only those in the manifest count
    wal/*.wal           one write-ahead log per writing store (see store_wal)
    index/*.npy         message_id hash runs (see store_index)
    leases/*.json       files an open snapshot still reads; compaction leaves them on disk
    store.lock          taken to change the manifest (seal, bulk load, compaction commit)
    compact.lock        taken by the one compaction running at a time

Readers must take the file list from a snapshot, never from a glob of ``data/``: replaced
segments stay on disk until the last snapshot reading them is closed.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from banso.events.store_wal import fsync_dir, is_live

FORMAT = 1


@dataclass
class Segment:
    name: str
    rows: int
    min_ts: str
    max_ts: str


@dataclass
class Manifest:
    version: int = 0
    segments: list[Segment] = field(default_factory=list)
    index_runs: list[str] = field(default_factory=list)
    wal_offsets: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.segments)


def load_manifest(root: Path) -> Manifest:
    try:
        raw = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Manifest()
    if raw.get("format") != FORMAT:
        raise RuntimeError(
            f"{root}/manifest.json has format {raw.get('format')}, expected {FORMAT}"
        )
    return Manifest(
        version=raw["version"],
        segments=[Segment(**s) for s in raw["segments"]],
        index_runs=raw["index_runs"],
        wal_offsets=raw["wal_offsets"],
    )


def save_manifest(root: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically and durably (temp file, fsync, rename, fsync dir)."""
    manifest.version += 1
    body = {"format": FORMAT, **asdict(manifest)}
    tmp = root / f".manifest.{uuid.uuid4().hex}.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(body, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, root / "manifest.json")
    fsync_dir(root)


@contextmanager
def file_lock(path: Path, blocking: bool = True) -> Iterator[bool]:
    """An exclusive ``flock`` on ``path``; each call opens its own descriptor, so the lock also
    excludes other threads of this process. Yields False if ``blocking`` is off and it is held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


class Lease:
    """Marks files as read by an open snapshot; held by a lock, so a crashed reader's lease is
    recognised as stale and ignored."""

    def __init__(self, directory: Path, files: list[str]) -> None:
        self.path = directory / f"{uuid.uuid4().hex}.json"
        tmp = directory / f".{self.path.name}.tmp"
        tmp.write_text(json.dumps(files), encoding="utf-8")
        self._fd = os.open(tmp, os.O_RDONLY)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.rename(tmp, self.path)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)
        os.close(self._fd)


def leased_files(directory: Path) -> set[str]:
    """Files named by live leases; stale leases (their process died) are removed."""
    files: set[str] = set()
    for path in directory.glob("*.json"):
        if not is_live(path):
            path.unlink(missing_ok=True)
            continue
        try:
            files.update(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
    return files
