"""Sorted, filtered lists with cursor (keyset) pagination that stays fast on large tables."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Select, and_, func, or_
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from banso.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 500
# PostgreSQL casts a compared number to the column's type, so a cursor value must fit it.
_INT_RANGE = (-(2**31), 2**31 - 1)
_BIGINT_RANGE = (-(2**63), 2**63 - 1)


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class SortKey:
    """A sortable column; nullable ones sort through ``coalesce`` so the keyset stays total."""

    column: Any
    null_as: Any = None

    @property
    def expression(self) -> ColumnElement[Any]:
        if self.null_as is None:
            return self.column
        return func.coalesce(self.column, self.null_as)


def _encode(sort: str, list_name: str, values: list[Any]) -> str:
    payload = {"s": sort, "t": list_name, "v": [_plain(v) for v in values]}
    raw = json.dumps(payload, ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _revive(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and "d" in value:
        return date.fromisoformat(value["d"])
    return value


def _expected(expression: Any) -> tuple[type | None, tuple[int, int]]:
    """The Python type a cursor value must have for this column, and its integer range."""
    sql_type = expression.type
    if isinstance(sql_type, TypeDecorator):  # e.g. UTCDateTime reports ``object`` itself
        sql_type = sql_type.impl_instance
    bounds = _BIGINT_RANGE if isinstance(sql_type, BigInteger) else _INT_RANGE
    try:
        python_type = sql_type.python_type
    except NotImplementedError:  # a type that cannot say; the database will judge
        return None, bounds
    return (None if python_type is object else python_type), bounds


def _fits(value: Any, expected: tuple[type | None, tuple[int, int]]) -> bool:
    """Whether a decoded cursor value can be compared with the sort column without error.

    A cursor travels through the client, so it may have been edited: a wrong type would
    otherwise reach the database and fail there (PostgreSQL) or silently compare (SQLite).
    """
    kind, (low, high) = expected
    if value is None or isinstance(value, list | dict):
        return False
    if kind is None:
        return True
    if kind is int:
        return type(value) is int and low <= value <= high
    if kind is datetime:
        return isinstance(value, datetime) and value.tzinfo is not None
    if kind is date:
        return type(value) is date
    if kind is str:
        return isinstance(value, str) and "\x00" not in value
    return isinstance(value, kind)


def _decode(
    cursor: str, sort: str, list_name: str, key: ColumnElement[Any], id_column: Any
) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values = [_revive(v) for v in data["v"]]
        if data["s"] != sort or data.get("t") != list_name or len(values) != 2:
            raise ValueError
        if not (_fits(values[0], _expected(key)) and _fits(values[1], _expected(id_column))):
            raise ValueError
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput.one(
            "cursor", "is not a cursor from this list and sort; start again without a cursor"
        ) from exc
    return values


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    id_column: Any,
    sortable: dict[str, SortKey],
    sort: str,
    cursor: str | None,
    limit: int,
) -> Page[Any]:
    """Apply ``sort`` (``name`` or ``-name``) and the cursor to ``stmt``; fetch one page."""
    descending = sort.startswith("-")
    name = sort.removeprefix("-")
    if name not in sortable:
        raise InvalidInput.one("sort", f"cannot sort by {name!r}; use one of {sorted(sortable)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.one("limit", f"must be between 1 and {MAX_LIMIT}")
    key = sortable[name].expression
    list_name = str(id_column)
    if cursor:
        last_value, last_id = _decode(cursor, sort, list_name, key, id_column)
        stmt = stmt.where(_after(key, id_column, last_value, last_id, descending=descending))
    order = (key.desc(), id_column.desc()) if descending else (key.asc(), id_column.asc())
    rows = list(
        session.execute(stmt.add_columns(key.label("_sort_key")).order_by(*order).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    items = [row[0] for row in rows]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode(sort, list_name, [last[-1], _id_of(last[0])])
    return Page(items=items, next_cursor=next_cursor)


def _after(
    key: ColumnElement[Any], id_column: Any, value: Any, last_id: int, *, descending: bool
) -> ColumnElement[bool]:
    """Rows strictly after (value, id) in the sort order.

    The leading ``key >= value`` (or ``<=``) is implied by the rest, but spelled out so that
    both SQLite and PostgreSQL start an index range scan there instead of reading every row
    before the cursor (deep pages would otherwise get slower the deeper they are).
    """
    if descending:
        return and_(key <= value, or_(key < value, and_(key == value, id_column < last_id)))
    return and_(key >= value, or_(key > value, and_(key == value, id_column > last_id)))


def _id_of(item: Any) -> int:
    return int(item.id)
