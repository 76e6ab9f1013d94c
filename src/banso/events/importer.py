"""`banso events import`: historical events from CSV, JSON lines or Parquet into the store.

Columns map to event fields (``--map col=field``; a column named like a field, in snake_case
or Segment's camelCase, maps by itself; ``properties.plan`` gathers a column into the JSON of
``properties``). Every row is checked; errors name the row (as a spreadsheet numbers it: the
header is row 1; JSON lines count from 1) and the column. Nothing is stored unless every row is
good, or ``skip_bad_rows`` drops the bad ones. Rows without a ``message_id`` get one derived
from their content, so importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from banso.errors import FieldError, InvalidInput
from banso.events.segment import MAX_ID, MAX_MESSAGE_ID, TYPES

FORMATS = ("csv", "jsonl", "parquet")
TEXT_FIELDS = ("message_id", "type", "event", "user_id", "anonymous_id", "group_id", "previous_id")
JSON_FIELDS = ("properties", "traits", "context")
FIELDS = (*TEXT_FIELDS, "timestamp", *JSON_FIELDS)
_CAMEL = {
    "messageId": "message_id",
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "groupId": "group_id",
    "previousId": "previous_id",
    "originalTimestamp": "timestamp",
}
_BATCH_ROWS = 50_000
MAX_REPORTED = 100  # errors listed; the count says how many there were in all


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    rows_read: int = 0
    rows_added: int = 0
    rows_skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0


class ImportFailed(Exception):
    """Bad rows and no ``skip_bad_rows``: nothing was stored."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(f"{result.error_count} bad rows; nothing was imported")
        self.result = result


def parse_mapping(pairs: list[str], columns: list[str]) -> dict[str, str]:
    """``{column: field}``: the columns named like fields, then ``col=field`` pairs."""
    mapping: dict[str, str] = {}
    for column in columns:
        name = _CAMEL.get(column, column)
        if name in FIELDS:
            mapping[column] = name
    errors = []
    for pair in pairs:
        column, sep, target = pair.partition("=")
        column, target = column.strip(), target.strip()
        nested = target.partition(".")
        if not sep or not column:
            errors.append(FieldError("map", f"{pair!r} is not column=field"))
        elif column not in columns:
            errors.append(FieldError("map", f"the file has no column {column!r}"))
        elif target not in FIELDS and not (nested[0] in JSON_FIELDS and nested[2]):
            allowed = ", ".join(FIELDS)
            errors.append(FieldError("map", f"{target!r} is not a field; use one of {allowed}"))
        else:
            mapping[column] = target
    if errors:
        raise InvalidInput(errors)
    targets = set(mapping.values())
    if not ({"user_id", "anonymous_id"} & targets):
        raise InvalidInput.one("map", "map a column to user_id or anonymous_id")
    if not ({"type", "event"} & targets):
        raise InvalidInput.one("map", "map a column to type or event (then type is track)")
    return mapping


# ---------------------------------------------------------------- readers


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def _read_csv(path: Path) -> Iterator[tuple[int, pa.Table]]:
    header = _csv_header(path)
    if not header:
        raise InvalidInput.one("file", "the file is empty: the first row must name the columns")
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header}, strings_can_be_null=True
    )
    reader = pacsv.open_csv(
        path, read_options=pacsv.ReadOptions(block_size=8 << 20), convert_options=options
    )
    row = 2
    for batch in reader:
        yield row, pa.Table.from_batches([batch])
        row += batch.num_rows


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return None if value is None else str(value)


def _read_jsonl(path: Path, errors: list[RowError]) -> Iterator[tuple[int, pa.Table]]:
    records: list[dict[str, Any]] = []
    first = 1
    with path.open(encoding="utf-8", errors="strict") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                records.append({})  # keeps numbering; an empty row fails the id check
                continue
            try:
                value = json.loads(line)
                if not isinstance(value, dict):
                    raise ValueError("each line must be a JSON object")
                records.append({k: _cell(v) for k, v in value.items()})
            except ValueError as exc:
                errors.append(RowError(number, None, f"not valid JSON: {exc}"))
                records.append({"\x00bad": "1"})
            if len(records) == _BATCH_ROWS:
                yield first, _records_table(records)
                first, records = number + 1, []
    if records:
        yield first, _records_table(records)


def _records_table(records: list[dict[str, Any]]) -> pa.Table:
    names = list(dict.fromkeys(k for r in records for k in r))
    return pa.table({n: pa.array([r.get(n) for r in records], pa.string()) for n in names})


def _read_parquet(path: Path) -> Iterator[tuple[int, pa.Table]]:
    row = 1
    for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS):
        table = pa.Table.from_batches([batch])
        columns = {}
        for name, column in zip(table.column_names, table.columns, strict=True):
            if pa.types.is_timestamp(column.type) or pa.types.is_string(column.type):
                columns[name] = column
            elif pa.types.is_nested(column.type):
                columns[name] = pa.array([_cell(v) for v in column.to_pylist()], pa.string())
            else:
                columns[name] = pc.cast(column, pa.string())
        yield row, pa.table(columns)
        row += table.num_rows


def count_rows(path: Path, fmt: str) -> int:
    """How many rows the file holds (for a progress bar): Parquet knows, text files are counted
    line by line in large blocks (a gigabyte a second)."""
    if fmt == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    lines += last != b"\n"
    return max(0, lines - 1) if fmt == "csv" else lines


def columns_of(path: Path, fmt: str) -> list[str]:
    if fmt == "csv":
        return _csv_header(path)
    if fmt == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    names: dict[str, None] = {}
    with path.open(encoding="utf-8") as handle:
        for line, _ in zip(handle, range(1000), strict=False):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                names.update(dict.fromkeys(value))
    return list(names)


# ---------------------------------------------------------------- checking and shaping

TS_TYPE = pa.timestamp("us", tz="UTC")


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _timestamps(column: pa.ChunkedArray, bad: Callable[[int, str], None]) -> pa.Array:
    """Event times: ISO 8601 text (no offset means UTC) or Parquet timestamps."""
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            return pc.cast(pc.assume_timezone(column, "UTC"), TS_TYPE).combine_chunks()
        return pc.cast(column, TS_TYPE).combine_chunks()
    try:
        return pc.cast(column, TS_TYPE).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values: list[datetime | None] = []
    for i, text in enumerate(column.to_pylist()):
        try:
            values.append(_parse_time(text) if text else None)
        except ValueError:
            bad(i, f"{text[:40]!r} is not an ISO 8601 time like 2026-11-22T09:00:00Z")
            values.append(None)
    return pa.array(values, TS_TYPE)


def _json_objects(
    direct: list[str | None] | None,
    nested: dict[str, list[str | None]],
    n: int,
    bad: Callable[[int, str], None],
) -> pa.Array:
    """The JSON text of one JSON field: the column mapped to it, plus ``field.key`` columns."""
    out: list[str | None] = []
    for i in range(n):
        value: dict[str, Any] = {}
        if direct is not None and direct[i]:
            try:
                parsed = json.loads(direct[i])  # type: ignore[arg-type]
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                bad(i, 'must be a JSON object like {"plan": "pro"}')
                out.append(None)
                continue
            value = parsed
        for key, column in nested.items():
            if column[i] is not None:
                value[key] = column[i]
        has_any = value or (direct is not None and direct[i])
        out.append(
            json.dumps(value, ensure_ascii=False, separators=(",", ":")) if has_any else None
        )
    return pa.array(out, pa.string())


class _Checker:
    """Collects the row errors of one batch and which rows are bad."""

    def __init__(self, first_row: int, n: int, errors: list[RowError], total: list[int]) -> None:
        self.first_row, self.bad_rows = first_row, [False] * n
        self.errors, self.total = errors, total
        self.silenced: set[int] = set()  # rows already reported (lines that are not JSON)

    def add(self, index: int, column: str | None, message: str) -> None:
        if index in self.silenced:
            return
        if not self.bad_rows[index]:
            self.total[0] += 1
        self.bad_rows[index] = True
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowError(self.first_row + index, column, message))

    def where(self, mask: pa.Array, column: str | None, message: str) -> None:
        for index in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            self.add(index, column, message)


def _reporter(check: _Checker, column: str) -> Callable[[int, str], None]:
    def report(index: int, message: str) -> None:
        check.add(index, column, message)

    return report


def _text_columns(table: pa.Table, mapping: dict[str, str], check: _Checker) -> dict[str, Any]:
    n, out = table.num_rows, {}
    columns = {f: c for c, f in mapping.items()}
    for name in TEXT_FIELDS:
        if name not in columns:
            out[name] = pa.nulls(n, pa.string())
            continue
        column = pc.utf8_trim_whitespace(table[columns[name]].combine_chunks())
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
        limit = MAX_MESSAGE_ID if name == "message_id" else MAX_ID
        too_long = pc.greater(pc.utf8_length(column), limit)
        check.where(too_long, columns[name], f"longer than {limit} characters")
        out[name] = column
    if "type" in columns:
        kinds = pc.fill_null(pc.utf8_lower(out["type"]), "track")
        check.where(
            pc.invert(pc.is_in(kinds, pa.array(TYPES))),
            columns["type"],
            f"type must be one of {', '.join(TYPES)}",
        )
        out["type"] = kinds
    else:
        out["type"] = pa.array(["track"] * n, pa.string())
    no_id = pc.and_(pc.is_null(out["user_id"]), pc.is_null(out["anonymous_id"]))
    check.where(
        no_id, columns.get("user_id", columns.get("anonymous_id")), "no user_id or anonymous_id"
    )
    no_event = pc.and_(pc.equal(out["type"], "track"), pc.is_null(out["event"]))
    check.where(no_event, columns.get("event"), "a track event needs an event name")
    return out


def _message_ids(out: dict[str, Any], n: int) -> pa.Array:
    """Ids for rows without one, derived from their content (a re-import adds nothing)."""
    ids = out["message_id"]
    if ids.null_count == 0:
        return ids
    parts = [out[k].to_pylist() for k in ("type", "event", "user_id", "anonymous_id", "group_id")]
    stamps = pc.cast(out["timestamp"], pa.int64()).to_pylist()
    jsons = [out[k].to_pylist() for k in JSON_FIELDS]
    values = ids.to_pylist()
    for i in range(n):
        if values[i] is None:
            key = json.dumps([*(p[i] for p in parts), stamps[i], *(j[i] for j in jsons)])
            values[i] = hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()
    return pa.array(values, pa.string())


def shape_batch(
    table: pa.Table,
    first_row: int,
    mapping: dict[str, str],
    *,
    source: str,
    received_at: datetime,
    errors: list[RowError],
    total: list[int],
) -> pa.Table:
    """The good rows of the batch as event rows (the store's schema); bad ones reported."""
    from banso.events.schema import EVENT_SCHEMA

    n = table.num_rows
    check = _Checker(first_row, n, errors, total)
    if "\x00bad" in table.column_names:  # lines that were not JSON (already reported)
        for i in pc.indices_nonzero(pc.is_valid(table["\x00bad"])).to_pylist():
            check.bad_rows[i] = True
            check.silenced.add(i)
            total[0] += 1
    out = _text_columns(table, mapping, check)
    columns = {f: c for c, f in mapping.items()}
    if "timestamp" in columns:
        stamp_column = columns["timestamp"]
        out["timestamp"] = _timestamps(table[stamp_column], _reporter(check, stamp_column))
        check.where(pc.is_null(table[stamp_column]), stamp_column, "no time given")
    else:
        out["timestamp"] = pa.nulls(n, TS_TYPE)
        for i in range(n):
            check.add(i, None, "map a column to timestamp: historical events need their time")
    for name in JSON_FIELDS:
        direct = table[columns[name]].to_pylist() if name in columns else None
        nested = {
            target.partition(".")[2]: table[column].to_pylist()
            for column, target in mapping.items()
            if target.startswith(name + ".")
        }
        out[name] = _json_objects(direct, nested, n, _reporter(check, columns.get(name, name)))
    out["message_id"] = _message_ids(out, n)
    out["received_at"] = pa.array([received_at] * n, TS_TYPE)
    out["source"] = pa.array([source] * n, pa.string())
    shaped = pa.table({name: out[name] for name in EVENT_SCHEMA.names})
    if any(check.bad_rows):
        shaped = shaped.filter(pa.array([not bad for bad in check.bad_rows]))
    return shaped.cast(EVENT_SCHEMA)


def read_batches(path: Path, fmt: str, errors: list[RowError]) -> Iterator[tuple[int, pa.Table]]:
    if fmt not in FORMATS:
        raise InvalidInput.one("format", f"use one of {', '.join(FORMATS)}")
    try:
        if fmt == "csv":
            yield from _read_csv(path)
        elif fmt == "jsonl":
            yield from _read_jsonl(path, errors)
        else:
            yield from _read_parquet(path)
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise InvalidInput.one("file", f"cannot read {path.name} as {fmt}: {exc}") from exc


def import_events(
    store: Any,
    path: Path,
    fmt: str,
    mapping_pairs: list[str],
    *,
    skip_bad_rows: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check every row, then append the good ones in one durable load (all or nothing unless
    ``skip_bad_rows``). ``progress(rows_read)`` is told as batches are read."""
    if not path.is_file():
        raise InvalidInput.one("file", f"{path} does not exist")
    mapping = parse_mapping(mapping_pairs, columns_of(path, fmt))
    result, total = ImportResult(), [0]
    received_at = datetime.now(UTC)
    good: list[pa.Table] = []
    for first_row, table in read_batches(path, fmt, result.errors):
        shaped = shape_batch(
            table,
            first_row,
            mapping,
            source=f"import:{path.name}",
            received_at=received_at,
            errors=result.errors,
            total=total,
        )
        result.rows_read += table.num_rows
        good.append(shaped)
        if progress:
            progress(result.rows_read)
    result.error_count = total[0]
    result.errors.sort(key=lambda e: e.row)
    if result.error_count and not skip_bad_rows:
        raise ImportFailed(result)
    result.rows_skipped = result.error_count
    if good:
        result.rows_added = store.append_table(pa.concat_tables(good))
    return result
