"""The columns of a usage event, and the checks every row passes before the store keeps it.

Every Parquet file of the event store has exactly ``EVENT_SCHEMA``; DuckDB, Spark and the
metrics read them as they are. ``rows_to_table`` and ``conform_table`` turn what ingestion or an
import hands over into that schema, or raise ``InvalidInput`` naming the row and column, so a
bad batch is refused whole before anything of it is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from banso.errors import FieldError, InvalidInput

EventRow = dict[str, Any]

_TS = pa.timestamp("us", tz="UTC")

EVENT_SCHEMA = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("event", pa.string()),
        pa.field("user_id", pa.string()),
        pa.field("anonymous_id", pa.string()),
        pa.field("group_id", pa.string()),
        pa.field("previous_id", pa.string()),
        pa.field("timestamp", _TS, nullable=False),
        pa.field("received_at", _TS, nullable=False),
        pa.field("properties", pa.string()),
        pa.field("traits", pa.string()),
        pa.field("context", pa.string()),
        pa.field("source", pa.string()),
    ]
)

COLUMNS: tuple[str, ...] = tuple(EVENT_SCHEMA.names)
EVENT_TYPES = frozenset({"track", "identify", "group", "page", "screen", "alias"})
_COLUMN_SET = frozenset(COLUMNS)
_JSON_COLUMNS = ("properties", "traits", "context")
_TEXT_COLUMNS = ("event", "user_id", "anonymous_id", "group_id", "previous_id", "source")
_REQUIRED = ("message_id", "type", "timestamp")
_MAX_ERRORS = 20
_TIME_TYPES = frozenset({datetime, str})


def event_row(message_id: str, type: str, timestamp: datetime, **columns: Any) -> EventRow:
    """A row with every column present (missing ones null), for code that builds events."""
    row: EventRow = dict.fromkeys(COLUMNS)
    row.update(message_id=message_id, type=type, timestamp=timestamp, **columns)
    return row


def rows_to_table(rows: Sequence[EventRow], received_at: datetime | None = None) -> pa.Table:
    """Check ``rows`` and build an Arrow table of ``EVENT_SCHEMA``; raise on the first bad rows.

    Timestamps may be aware datetimes, naive ones (taken as UTC) or ISO 8601 text; properties,
    traits and context may be JSON text or any JSON value (serialised here, UTF-8 kept as is).
    A missing ``received_at`` is the time of this call.
    """
    if isinstance(rows, dict | str | bytes) or not isinstance(rows, Sequence):
        raise InvalidInput.one("rows", "must be a list of events (objects)")
    now = received_at or datetime.now(UTC)
    table = _table_if_clean(rows, now)
    return table if table is not None else _checked_table(rows, now)


def _table_if_clean(rows: Sequence[EventRow], now: datetime) -> pa.Table | None:
    """Column-at-a-time conversion for the usual, valid batch; None as soon as anything is
    unusual, so that the row-by-row pass can say exactly what and where."""
    if not all(type(row) is dict for row in rows) or not _COLUMN_SET.issuperset(set().union(*rows)):
        return None
    columns = {name: [row.get(name) for row in rows] for name in COLUMNS}
    ids, timestamps = columns["message_id"], columns["timestamp"]
    if None in ids or "" in ids or not all(type(v) in _TIME_TYPES for v in timestamps):
        return None
    if not EVENT_TYPES.issuperset(columns["type"]):
        return None
    received = columns["received_at"]
    if None in received:
        columns["received_at"] = received = [now if v is None else v for v in received]
    if not all(type(v) in _TIME_TYPES for v in received):
        return None
    try:
        for name in _JSON_COLUMNS:
            values = columns[name]
            if any(v is not None and type(v) is not str for v in values):
                columns[name] = [v if v is None or type(v) is str else _json(v) for v in values]
        arrays = [_array(columns[f.name], f.type) for f in EVENT_SCHEMA]
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def _array(values: list[Any], type_: pa.DataType) -> pa.Array:
    if type_ != _TS:
        return pa.array(values, type=type_)
    try:
        return pa.array(values, type=_TS)
    except pa.ArrowTypeError:  # ISO text: Arrow parses it, offsets included, in C
        return pa.array(values, type=pa.string()).cast(_TS)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _checked_table(rows: Sequence[EventRow], now: datetime) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    errors: list[FieldError] = []
    for i, row in enumerate(rows):
        problems = _row_problems(i, row)
        if problems:
            errors.extend(problems)
            if len(errors) >= _MAX_ERRORS:
                break
            continue
        for name in COLUMNS:
            columns[name].append(row.get(name))
        _normalise_last(columns, i, now, errors)
    if errors:
        raise InvalidInput(errors[:_MAX_ERRORS])
    try:
        arrays = [pa.array(columns[f.name], type=f.type) for f in EVENT_SCHEMA]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise InvalidInput.one("rows", f"cannot be stored: {exc}") from exc
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def _row_problems(i: int, row: Any) -> list[FieldError]:
    where = f"row {i}"
    if not isinstance(row, dict):
        return [FieldError(where, "must be an object with the event's columns")]
    problems = [
        FieldError(f"{where}.{name}", "unknown column (expected one of EVENT_SCHEMA)")
        for name in row.keys() - _COLUMN_SET
    ]
    message_id = row.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        problems.append(FieldError(f"{where}.message_id", "is required (non-empty text)"))
    if row.get("type") not in EVENT_TYPES:
        problems.append(
            FieldError(
                f"{where}.type", f"must be one of {sorted(EVENT_TYPES)}, not {row.get('type')!r}"
            )
        )
    if row.get("timestamp") is None:
        problems.append(FieldError(f"{where}.timestamp", "is required"))
    for name in _TEXT_COLUMNS:
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(
                FieldError(f"{where}.{name}", f"must be text, not {type(value).__name__}")
            )
    return problems


def _normalise_last(
    columns: dict[str, list[Any]], i: int, now: datetime, errors: list[FieldError]
) -> None:
    """Turn the just-appended row's timestamps and JSON values into their stored form."""
    for name in ("timestamp", "received_at"):
        value = columns[name][-1]
        if value is None:
            columns[name][-1] = now
        elif isinstance(value, str):
            try:
                columns[name][-1] = datetime.fromisoformat(value)
            except ValueError:
                errors.append(FieldError(f"row {i}.{name}", f"{value!r} is not an ISO 8601 time"))
        elif not isinstance(value, datetime):
            errors.append(
                FieldError(f"row {i}.{name}", f"must be a time, not {type(value).__name__}")
            )
    for name in _JSON_COLUMNS:
        value = columns[name][-1]
        if value is not None and not isinstance(value, str):
            try:
                columns[name][-1] = _json(value)
            except (TypeError, ValueError) as exc:
                errors.append(FieldError(f"row {i}.{name}", f"is not JSON: {exc}"))


def conform_table(table: pa.Table, received_at: datetime | None = None) -> pa.Table:
    """Cast a bulk-loaded table to ``EVENT_SCHEMA`` (missing optional columns become null)."""
    unknown = [name for name in table.column_names if name not in _COLUMN_SET]
    if unknown:
        raise InvalidInput(
            [FieldError(name, "unknown column (expected one of EVENT_SCHEMA)") for name in unknown]
        )
    missing = [name for name in _REQUIRED if name not in table.column_names]
    if missing:
        raise InvalidInput([FieldError(name, "column is required") for name in missing])
    now = received_at or datetime.now(UTC)
    arrays = []
    for field in EVENT_SCHEMA:
        arrays.append(_conform_column(table, field, now))
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def _conform_column(table: pa.Table, field: pa.Field, now: datetime) -> pa.ChunkedArray:
    if field.name not in table.column_names:
        if field.name == "received_at":
            return pa.chunked_array([pa.array([now] * table.num_rows, type=_TS)])
        return pa.chunked_array([pa.nulls(table.num_rows, type=field.type)])
    column = table.column(field.name)
    try:
        column = column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput.one(field.name, f"cannot be read as {field.type}: {exc}") from exc
    if field.name == "received_at" and column.null_count:
        column = pc.fill_null(column, pa.scalar(now, type=_TS))
    if not field.nullable and column.null_count:
        first = pc.index(pc.is_null(column), True).as_py()
        raise InvalidInput.one(f"row {first}.{field.name}", "is required")
    if field.name == "message_id" and pc.any(pc.equal(column, "")).as_py():
        first = pc.index(column, "").as_py()
        raise InvalidInput.one(f"row {first}.message_id", "is required (non-empty text)")
    if field.name == "type":
        bad = pc.invert(pc.is_in(column, pa.array(sorted(EVENT_TYPES))))
        if pc.any(bad).as_py():
            first = pc.index(bad, True).as_py()
            raise InvalidInput.one(
                f"row {first}.type", f"must be one of {sorted(EVENT_TYPES)}, not {column[first]}"
            )
    return column
