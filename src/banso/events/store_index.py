"""The index of every message_id in the store, so that a retried event is kept only once.

Each id is kept as its 128-bit MD5 (two uint64: ``hi`` and ``lo``). A run file
``index/<name>.npy`` holds the hashes a seal or bulk load added, sorted by ``hi``; the manifest
lists the runs, and compaction merges them. Membership is a binary search per run, so checking a
batch costs O(batch x runs x log n) whatever the store's size; memory is 16 bytes per stored
event (320 MB at 20 million) and is only spent by a process that writes Parquet (seal, bulk
load). Two different ids sharing 128 bits is far less likely than a disk error (about 1e-24 at
20 million ids), so equal hashes count as equal ids.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

_MAX_RUNS = 8
_HASH_CHUNK = 2_000


def hash_ids(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An (n, 2) uint64 array: the MD5 of each id, as big-endian hi and lo halves."""
    parts = []
    for start in range(0, len(ids), _HASH_CHUNK):
        chunk = ids.slice(start, _HASH_CHUNK).to_pylist()
        parts.append(b"".join(hashlib.md5(s.encode()).digest() for s in chunk))
        # Hashing holds the GIL; a seal runs beside request handlers, so let them go first.
        time.sleep(0)
    return np.frombuffer(b"".join(parts), dtype=">u8").astype(np.uint64).reshape(-1, 2)


def first_occurrences(hashes: np.ndarray) -> np.ndarray:
    """Sorted positions of the first row of each distinct hash (de-duplication within a batch)."""
    hi = np.sort(hashes[:, 0])
    if not np.any(hi[1:] == hi[:-1]):  # the usual batch: no repeats, skip the slow record sort
        return np.arange(len(hashes))
    keys = np.ascontiguousarray(hashes).view([("hi", np.uint64), ("lo", np.uint64)]).ravel()
    _, first = np.unique(keys, return_index=True)
    first.sort()
    return first


@dataclass
class _Run:
    hi: np.ndarray
    lo: np.ndarray

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        q_hi, q_lo = hashes[:, 0], hashes[:, 1]
        left = np.searchsorted(self.hi, q_hi, side="left")
        right = np.searchsorted(self.hi, q_hi, side="right")
        found = np.zeros(len(hashes), dtype=bool)
        single = right - left == 1
        found[single] = self.lo[left[single]] == q_lo[single]
        for i in np.flatnonzero(right - left > 1):  # several ids share the first 64 bits
            found[i] = bool(np.any(self.lo[left[i] : right[i]] == q_lo[i]))
        return found


@dataclass
class MessageIdIndex:
    """The runs named in the manifest, loaded lazily and kept in step with it."""

    directory: Path
    runs: dict[str, _Run] = field(default_factory=dict)

    def sync(self, names: list[str]) -> None:
        """Match the manifest's list of runs; call it under the store lock."""
        if set(self.runs) - set(names):  # runs were merged away: their merge holds the same ids
            self.runs = {}
        for name in names:
            if name not in self.runs:
                data = np.load(self.directory / f"{name}.npy")
                self.runs[name] = _Run(
                    np.ascontiguousarray(data[:, 0]), np.ascontiguousarray(data[:, 1])
                )

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        found = np.zeros(len(hashes), dtype=bool)
        for run in self.runs.values():
            found |= run.contains(hashes)
        return found

    def write_run(self, hashes: np.ndarray) -> str:
        """Persist new hashes as a run (fsynced; the caller lists it in the manifest)."""
        order = np.argsort(hashes[:, 0], kind="stable")
        data = np.ascontiguousarray(hashes[order])
        name = uuid.uuid4().hex
        _save_durably(self.directory / f"{name}.npy", data)
        self.runs[name] = _Run(np.ascontiguousarray(data[:, 0]), np.ascontiguousarray(data[:, 1]))
        return name

    def merge(self, names: list[str]) -> str:
        """Write one run holding the hashes of the loaded runs ``names`` and put it in their
        place; the caller lists it in the manifest instead of them."""
        data = np.concatenate([np.stack([self.runs[n].hi, self.runs[n].lo], axis=1) for n in names])
        merged = self.write_run(data)
        for name in names:
            del self.runs[name]
        return merged

    def small_runs(self) -> list[str]:
        """The smaller half of the runs once there are too many: merging them keeps lookups to
        a few runs while a big run is rewritten only when its peers have grown as big."""
        if len(self.runs) <= _MAX_RUNS:
            return []
        by_size = sorted(self.runs, key=lambda n: len(self.runs[n].hi))
        return by_size[: len(by_size) // 2 + 1]


def _save_durably(path: Path, data: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        np.save(f, data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
