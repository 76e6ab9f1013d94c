"""Where metrics are computed: one Ibis expression per refresh, run by DuckDB, Spark or a warehouse.

The same expression runs on every backend; a backend only says how to read the events, how
to hand it the small tables from the app database and how to read a JSON property (the
capability that differs). The plan itself lives in ``plan.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import uuid4

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from banso.events.schema import EVENT_SCHEMA
from banso.settings import Settings


@ibis.udf.scalar.builtin(name="json_extract_string")
def _duckdb_json_text(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """DuckDB's own JSON reader (no Python runs per row)."""


@ibis.udf.scalar.builtin(name="get_json_object")
def _spark_json_text(doc: str, path: str) -> str:  # type: ignore[empty-body]
    """Spark's own JSON reader (no Python worker per row)."""


def _generic_json_text(doc: ir.StringValue, key: str) -> ir.StringValue:
    return doc.cast("json")[key].str


class Engine(Protocol):
    name: str

    def events(self, files: Sequence[Path]) -> ir.Table: ...
    def register(self, table: pa.Table) -> ir.Table: ...
    def json_text(self, doc: ir.StringValue, key: str) -> ir.StringValue: ...
    def to_arrow(self, expr: ir.Table) -> pa.Table: ...
    def close(self) -> None: ...


def _unique(prefix: str) -> str:
    return f"banso_{prefix}_{uuid4().hex[:10]}"


@dataclass
class DuckDBEngine:
    """In-process DuckDB (the default): reads the store's Parquet files where they lie."""

    threads: int | None = None
    memory_limit: str | None = None
    name: str = "duckdb"
    con: Any = field(init=False)

    def __post_init__(self) -> None:
        config: dict[str, Any] = {}
        if self.threads:
            config["threads"] = self.threads
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        self.con = ibis.duckdb.connect(**config)

    def events(self, files: Sequence[Path]) -> ir.Table:
        if not files:
            return self.register(EVENT_SCHEMA.empty_table())
        return self.con.read_parquet([str(f) for f in files], table_name=_unique("events"))

    def register(self, table: pa.Table) -> ir.Table:
        return self.con.create_table(_unique("t"), obj=table, temp=True)

    def json_text(self, doc: ir.StringValue, key: str) -> ir.StringValue:
        return _duckdb_json_text(doc, f"$.{key}")

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        return self.con.to_pyarrow(expr)

    def close(self) -> None:
        self.con.disconnect()


class SparkEngine:
    """PySpark through Ibis: local mode for tests, a cluster when the session says so."""

    name = "pyspark"

    def __init__(self, spark: Any = None, master: str = "local[2]") -> None:
        if spark is None:
            from pyspark.sql import SparkSession

            spark = (
                SparkSession.builder.master(master)
                .appName("banso-metrics")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate()
            )
        # Timestamps are compared as UTC instants; a session in another zone would shift them.
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        self.spark = spark
        self.con = ibis.pyspark.connect(spark)
        self._views: list[str] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="banso-spark-")

    def _view(self, frame: Any) -> ir.Table:
        name = _unique("v")
        frame.createOrReplaceTempView(name)
        self._views.append(name)
        return self.con.table(name)

    def events(self, files: Sequence[Path]) -> ir.Table:
        if not files:
            return self.register(EVENT_SCHEMA.empty_table())
        return self._view(self.spark.read.parquet(*[str(f) for f in files]))

    def register(self, table: pa.Table) -> ir.Table:
        # Ibis memtables lose nullable integers on Spark; a Parquet file keeps every type.
        import pyarrow.parquet as pq

        path = Path(self._tmp.name) / f"{_unique('t')}.parquet"
        pq.write_table(table, path)
        return self._view(self.spark.read.parquet(str(path)))

    def json_text(self, doc: ir.StringValue, key: str) -> ir.StringValue:
        return _spark_json_text(doc, f"$.{key}")

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        # Straight to Arrow: Ibis would go through pandas, slower and noisier.
        return self.spark.sql(str(self.con.compile(expr))).toArrow()

    def close(self) -> None:
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._tmp.cleanup()


class WarehouseEngine:
    """Events that already live in a warehouse: any Ibis connection URL + a column mapping."""

    name = "warehouse"

    def __init__(self, url: str, table: str, columns: dict[str, str]) -> None:
        self.con = ibis.connect(url)
        self.table = table
        self.columns = columns

    def events(self, files: Sequence[Path]) -> ir.Table:
        source = self.con.table(self.table)
        picked = {}
        for column in EVENT_SCHEMA.names:
            name = self.columns.get(column, column)
            if name in source.columns:
                picked[column] = source[name]
            else:
                dtype = ibis.dtype("timestamp('UTC')") if "timestamp" in column else "string"
                picked[column] = ibis.null().cast(dtype)
        return source.select(**picked)

    def register(self, table: pa.Table) -> ir.Table:
        return ibis.memtable(table)

    def json_text(self, doc: ir.StringValue, key: str) -> ir.StringValue:
        return _generic_json_text(doc, key)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        return self.con.to_pyarrow(expr)

    def close(self) -> None:
        self.con.disconnect()


def make_engine(settings: Settings) -> Engine:
    """The engine ``BANSO_METRICS_ENGINE`` names: duckdb, pyspark or an Ibis URL."""
    choice = settings.metrics_engine
    if choice == "duckdb":
        return DuckDBEngine(memory_limit=settings.metrics_memory_limit or None)
    if choice == "pyspark":
        return SparkEngine(master=settings.metrics_spark_master)
    return WarehouseEngine(choice, settings.metrics_events_table, settings.metrics_column_map)
