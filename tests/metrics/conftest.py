"""Engines for the shared metric suite: every metric test runs on DuckDB and on PySpark.

One Spark session serves the whole run (starting one takes seconds); DuckDB is per test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from banso.events.schema import EVENT_SCHEMA
from banso.metrics.engine import DuckDBEngine, Engine, SparkEngine
from banso.metrics.plan import AppData

ENGINES = ("duckdb", "pyspark")


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("banso-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    engine = SparkEngine(spark)
    yield engine
    engine.close()
    spark.stop()


def open_engine(name: str, request: pytest.FixtureRequest) -> Engine:
    if name == "duckdb":
        return DuckDBEngine(threads=1)
    engine: Engine = request.getfixturevalue("spark_engine")
    return engine


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def event(
    n: int,
    at: datetime,
    user: str | None,
    name: str | None = "Logged In",
    kind: str = "track",
    **fields: Any,
) -> dict[str, Any]:
    row = dict.fromkeys(EVENT_SCHEMA.names)
    row |= {
        "message_id": f"m{n}",
        "type": kind,
        "event": name,
        "user_id": user,
        "timestamp": at,
        "received_at": at,
        "source": "test",
    }
    return row | fields


def write_events(folder: Path, rows: list[dict[str, Any]]) -> list[Path]:
    """Two files, as a store snapshot hands them out."""
    half = len(rows) // 2
    paths = []
    for i, part in enumerate((rows[:half], rows[half:])):
        path = folder / f"events-{i}.parquet"
        pq.write_table(pa.Table.from_pylist(part, EVENT_SCHEMA), path)
        paths.append(path)
    return paths


def _ints(values: list[int | None]) -> pa.Array:
    return pa.array(values, pa.int64())


def _strs(values: list[str]) -> pa.Array:
    return pa.array(values, pa.string())


def app_data(
    users: list[tuple[str, int | None, int | None]],
    accounts: list[tuple[int, int | None, int]],
    groups: list[tuple[str, int]] = (),  # type: ignore[assignment]
    aliases: list[tuple[str, str]] = (),  # type: ignore[assignment]
    key_persons: list[tuple[int, int]] = (),  # type: ignore[assignment]
) -> AppData:
    return AppData(
        users=pa.table(
            {
                "user_id": _strs([u[0] for u in users]),
                "account_id": _ints([u[1] for u in users]),
                "contact_id": _ints([u[2] for u in users]),
            }
        ),
        groups=pa.table(
            {"group_id": _strs([g[0] for g in groups]), "account_id": _ints([g[1] for g in groups])}
        ),
        aliases=pa.table(
            {"alias_id": _strs([a[0] for a in aliases]), "user_id": _strs([a[1] for a in aliases])}
        ),
        accounts=pa.table(
            {
                "account_id": _ints([a[0] for a in accounts]),
                "seats": _ints([a[1] for a in accounts]),
                "invited_contacts": _ints([a[2] for a in accounts]),
            }
        ),
        key_persons=pa.table(
            {
                "contact_id": _ints([k[0] for k in key_persons]),
                "account_id": _ints([k[1] for k in key_persons]),
            }
        ),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # py4j leaves its gateway sockets to the garbage collector: a known, harmless leak.
    for item in items:
        if item.nodeid.startswith("tests/metrics/") and "pyspark" in item.nodeid:
            item.add_marker(pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning"))
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
