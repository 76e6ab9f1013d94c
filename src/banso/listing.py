"""Sorted, filtered lists with cursor (keyset) pagination that stays fast on large tables."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_
from sqlalchemy.orm import Session

from banso.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 500


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


def _encode(sort: str, values: list[Any]) -> str:
    raw = json.dumps({"s": sort, "v": [_plain(v) for v in values]}, ensure_ascii=False)
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


def _decode(cursor: str, sort: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values = [_revive(v) for v in data["v"]]
        if data["s"] != sort or len(values) != 2:
            raise ValueError
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput.one("cursor", "is not a cursor from this list and sort") from exc
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
    if cursor:
        last_value, last_id = _decode(cursor, sort)
        if descending:
            stmt = stmt.where(or_(key < last_value, and_(key == last_value, id_column < last_id)))
        else:
            stmt = stmt.where(or_(key > last_value, and_(key == last_value, id_column > last_id)))
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
        next_cursor = _encode(sort, [last[-1], _id_of(last[0])])
    return Page(items=items, next_cursor=next_cursor)


def _id_of(item: Any) -> int:
    return int(item.id)
