"""Bulk INSERT at driver speed: one compiled statement, values converted once per column.

``session.execute(insert(table), rows)`` spends most of its time per row inside SQLAlchemy
(parameter construction, type processing through generic hooks). An import writes tens of
thousands of rows a second, so here the statement is compiled once for the dialect, each
column's own bind processor (JSON, timestamps, booleans) is applied directly, and the rows go
to the driver's executemany in the session's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys; missing columns take their defaults)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    defaults = _defaults(table, names)
    columns = [*names, *defaults]
    stmt = insert(table).values({name: bindparam(name) for name in columns})
    compiled = stmt.compile(dialect=dialect)
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in columns]
    fill = list(defaults.values())
    values = [[row[name] for name in names] + fill for row in rows]
    for index, process in enumerate(processors):
        if process is not None:
            _convert(values, index, process)
    if compiled.positiontup is not None:
        order = [columns.index(name) for name in compiled.positiontup]
        params: list[Any] = [tuple(record[i] for i in order) for record in values]
    else:
        params = [dict(zip(columns, record, strict=True)) for record in values]
    connection.exec_driver_sql(str(compiled), params)


def _convert(values: list[list[Any]], index: int, process: Any) -> None:
    """Apply one column's bind processor; a value repeated on every row (a timestamp of the
    import, None) is converted once."""
    cache: dict[Any, Any] = {}
    for record in values:
        value = record[index]
        try:
            record[index] = cache[value]
        except KeyError:
            record[index] = cache[value] = process(value)
        except TypeError:  # unhashable (a JSON dict or list): convert every time
            record[index] = process(value)


def _defaults(table: Table, given: list[str]) -> dict[str, Any]:
    """Scalar or callable Python-side defaults of the columns not given (called once)."""
    found: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        default: Any = column.default
        if default.is_scalar:
            found[column.name] = default.arg
        elif default.is_callable:
            found[column.name] = default.arg(None)
    return found
