"""Several processes append to one store at once; each event is stored once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

from banso.events.store import EventStore
from tests.events.store_support import stored_ids

# Each process sends its own events and the same "shared" ones (a client retrying against
# another server); it seals in between so both paths meet in the Parquet files.
WRITER = textwrap.dedent(
    """
    import sys
    from banso.events.store import EventStore
    from tests.events.store_support import rows

    name = sys.argv[2]
    with EventStore(sys.argv[1], seal_bytes=50_000) as store:
        for n in range(40):
            store.append(rows(f"{name}-{n}", 50))
            store.append(rows(f"shared-{n}", 50))
    """
)


def test_it_takes_appends_from_two_processes_at_once(tmp_path: Path) -> None:
    root = tmp_path / "events"
    repo = Path(__file__).parents[2]
    children = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), name], cwd=repo)
        for name in ("p1", "p2")
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0]

    store = EventStore(root)
    try:
        counts = Counter(stored_ids(store))
    finally:
        store.close()
    assert len(counts) == 3 * 40 * 50
    assert set(counts.values()) == {1}
    assert list((root / "wal").glob("*.wal")) == []  # closed writers' logs are sealed and gone
