"""The document index's SQL that differs between SQLite (FTS5) and PostgreSQL (tsvector + GIN).

On SQLite an FTS5 table indexes ``document_search.terms`` (external content, kept in step by
triggers); it lives outside the migrated schema, as Alembic cannot describe virtual tables,
and is created, and filled from document_search, the first time it is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    delete,
    event,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import BindParameter

from banso.search import dialects
from banso.search.models import DocumentSearch
from banso.search.terms import Needle

FTS_TABLE = "document_search_fts"
_SQLITE_SETUP, SQLITE_TEARDOWN = dialects.fts5_statements("document_search", "id")
_COLUMNS = (
    DocumentSearch.id,
    DocumentSearch.kind,
    DocumentSearch.ref_id,
    DocumentSearch.account_id,
    DocumentSearch.author_id,
    DocumentSearch.occurred_at,
    DocumentSearch.title,
    DocumentSearch.body,
    DocumentSearch.url,
)


@dataclass(frozen=True)
class Filters:
    kinds: list[str] | None = None
    account_id: int | None = None
    author_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, int] | None = None  # the keyset cursor: (occurred_at, id) seen last


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    ref_id: int
    account_id: int | None
    author_id: int | None
    occurred_at: datetime
    title: str
    body: str
    url: str


def ensure_index(connection: Connection) -> None:
    """Create the SQLite FTS5 table on first use (PostgreSQL needs nothing beyond the schema)."""
    dialects.create_fts_if_missing(connection, FTS_TABLE, _SQLITE_SETUP)


def clear(connection: Connection) -> None:
    """Empty the index before a bulk load (``upsert`` in batches, then ``ensure_index``).

    On SQLite the FTS5 table and its triggers are dropped too, and stay dropped until
    ``ensure_index`` creates the table again and builds it from the rows in one pass: six
    times faster than the per-row triggers on a fresh index. Inside a SAVEPOINT, rolling back
    to it after this breaks SQLite's later savepoints ("SQL logic error"): roll back the whole
    transaction instead.
    """
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_TEARDOWN:
            connection.execute(text(statement))
    connection.execute(delete(DocumentSearch))


def optimise(connection: Connection) -> None:
    """After a bulk load: merge the FTS5 segments (SQLite), refresh the statistics."""
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')"))
    connection.execute(text("ANALYZE document_search"))


_UPDATED = ("account_id", "author_id", "occurred_at", "title", "body", "url", "terms")


def upsert(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Store document rows (as made by banso.search.documents), replacing (kind, ref_id)."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        # The terms become a tsvector in the database: positions make phrases possible.
        params = [{**r, "terms_text": r["terms"]} for r in rows]
        for p in params:
            del p["terms"]
        pg = pg_insert(DocumentSearch).values(
            terms=func.to_tsvector(literal_column("'simple'"), bindparam("terms_text"))
        )
        pg = pg.on_conflict_do_update(
            index_elements=["kind", "ref_id"], set_={c: pg.excluded[c] for c in _UPDATED}
        )
        connection.execute(pg, params)
        return
    lite = sqlite_insert(DocumentSearch)
    lite = lite.on_conflict_do_update(
        index_elements=["kind", "ref_id"], set_={c: lite.excluded[c] for c in _UPDATED}
    )
    connection.execute(lite, rows)


# How the matches are fetched newest first depends on how many there are (measured on
# 1,000,000 entries, bench/bench_search.py): a rare query reads its few matches from the term
# index and sorts them; a common one (a two-character word found in a third of all entries)
# would sort hundreds of thousands, so the newest entries are read in time order instead and
# checked one by one, until a page is full. Counting stops at COMMON: no query counts every
# match.
COMMON = 2000
WALK_BATCH = 250
WALK_ROWS = 1000  # entries checked in time order before the term index takes over
WALK_ROWS_ONE_ACCOUNT = 20_000  # one customer's entries: few, so all may be checked


def find(
    connection: Connection,
    needles: list[Needle],
    filters: Filters,
    limit: int,
    matches: Callable[[str, str], bool],
) -> list[Row]:
    """Up to ``limit`` documents matching every needle and the filters, newest first.

    ``matches(title, body)`` tells whether a row matches the query, exactly as the term
    index would (banso.search.documents folds the text and looks for each word).
    """
    dialect = connection.dialect.name
    if _count_capped(connection, dialect, needles, COMMON) < COMMON:
        return _from_terms(connection, dialect, needles, filters, limit, by_time=False)
    window = WALK_ROWS_ONE_ACCOUNT if filters.account_id is not None else WALK_ROWS
    found, last = _walk(connection, filters, limit, window, matches)
    if len(found) >= limit or last is None:
        return found[:limit]
    rest = replace(filters, after=last)
    # Fewer than one match in WALK_ROWS of the newest: on SQLite the matches are checked in
    # time order (each one cheap against the set of matches); PostgreSQL's planner chooses.
    by_time = filters.account_id is None
    return found + _from_terms(connection, dialect, needles, rest, limit - len(found), by_time)


def _count_capped(connection: Connection, dialect: str, needles: list[Needle], cap: int) -> int:
    ids = _matching_ids(dialect, needles).limit(cap).subquery()
    return connection.scalar(select(func.count()).select_from(ids)) or 0


def _from_terms(
    connection: Connection,
    dialect: str,
    needles: list[Needle],
    filters: Filters,
    limit: int,
    by_time: bool,
) -> list[Row]:
    """Matches from the term index, sorted; ``by_time`` (SQLite) reads the time index in
    order and keeps the entries among the matches, instead of sorting all the matches."""
    if dialect == "postgresql":
        match = DocumentSearch.terms.op("@@")(_pg_tsquery(needles))
        if by_time:
            query = select(*_COLUMNS).where(match, *_where(filters))
        else:
            # Planned on its own (MATERIALIZED), the matches come from the GIN index: asked
            # for the newest first, the planner may walk the time index through a million
            # rows looking for a rare word instead.
            found = (
                select(DocumentSearch.id, DocumentSearch.occurred_at)
                .where(match, *_where(filters))
                .cte("found")
                .prefix_with("MATERIALIZED")
            )
            newest = (
                select(found.c.id)
                .order_by(found.c.occurred_at.desc(), found.c.id.desc())
                .limit(limit)
            )
            query = select(*_COLUMNS).where(DocumentSearch.id.in_(newest))
    elif by_time:
        ids = _matching_ids(dialect, needles)
        # "+id": the match set is checked row by row, not used to look the rows up.
        query = select(*_COLUMNS).where(
            literal_column("+document_search.id").in_(ids), *_where(filters)
        )
        query = query.execution_options(**{_INDEX_HINT: "ix_document_search_at"})
        hint_indexes(connection)
    else:
        query = select(*_COLUMNS).where(
            DocumentSearch.id.in_(_matching_ids(dialect, needles)), *_where(filters)
        )
    query = query.order_by(DocumentSearch.occurred_at.desc(), DocumentSearch.id.desc())
    return [Row(*r) for r in connection.execute(query.limit(limit))]


_INDEX_HINT = "banso_sqlite_indexed_by"


def hint_indexes(connection: Connection) -> None:
    """Let this connection's engine honour ``INDEXED BY`` requests (SQLite only, once each).

    Registered per engine on first use rather than on every engine of the process, so the
    rest of the app never pays for it.
    """
    engine = connection.engine
    if engine.dialect.name == "sqlite" and not event.contains(
        engine, "before_cursor_execute", _indexed_by
    ):
        event.listen(engine, "before_cursor_execute", _indexed_by, retval=True)


def _indexed_by(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> tuple[str, Any]:
    """SQLite's ``INDEXED BY`` for a query that asks for it (SQLAlchemy has no SQLite hints):
    the planner cannot know how many rows an FTS5 match holds, so it is told."""
    index = context.execution_options.get(_INDEX_HINT) if context is not None else None
    if index and conn.dialect.name == "sqlite":
        statement = statement.replace(
            "FROM document_search \n", f"FROM document_search INDEXED BY {index} \n", 1
        )
    return statement, parameters


def _walk(
    connection: Connection,
    filters: Filters,
    limit: int,
    window: int,
    matches: Callable[[str, str], bool],
) -> tuple[list[Row], tuple[datetime, int] | None]:
    """The newest rows (after the filters) checked one by one: the matches, and the last row
    checked (None when there are no more rows)."""
    found: list[Row] = []
    after = filters.after
    checked = 0
    # Without statistics SQLite may prefer the kind index and sort every entry of a kind.
    index = "ix_document_search_account_id" if filters.account_id else "ix_document_search_at"
    hint_indexes(connection)
    while checked < window:
        query = (
            select(*_COLUMNS)
            .where(*_where(replace(filters, after=after)))
            .order_by(DocumentSearch.occurred_at.desc(), DocumentSearch.id.desc())
            .limit(WALK_BATCH)
            .execution_options(**{_INDEX_HINT: index})
        )
        batch = [Row(*r) for r in connection.execute(query)]
        for row in batch:
            checked += 1
            after = (row.occurred_at, row.id)
            if matches(row.title, row.body):
                found.append(row)
                if len(found) >= limit:
                    return found, after
        if len(batch) < WALK_BATCH:
            return found, None
    return found, after


def _where(filters: Filters) -> list[ColumnElement[bool]]:
    doc = DocumentSearch
    where: list[ColumnElement[bool]] = []
    if filters.kinds:
        where.append(doc.kind.in_(filters.kinds))
    if filters.account_id is not None:
        where.append(doc.account_id == filters.account_id)
    if filters.author_id is not None:
        where.append(doc.author_id == filters.author_id)
    if filters.since is not None:
        where.append(doc.occurred_at >= filters.since)
    if filters.until is not None:
        where.append(doc.occurred_at < filters.until)
    if filters.after is not None:
        at, row_id = filters.after
        where.append(or_(doc.occurred_at < at, (doc.occurred_at == at) & (doc.id < row_id)))
    return where


def _pg_tsquery(needles: list[Needle]) -> Any:
    query = dialects.pg_query(needles)
    # Written into the SQL, not bound: a generic plan cannot see how rare the terms are.
    # Safe, as the query is made only of terms (letters) and the operators built here.
    inline: BindParameter[str] = bindparam("search_query", query, literal_execute=True)
    return func.to_tsquery(literal_column("'simple'"), inline)


def _matching_ids(dialect: str, needles: list[Needle]) -> Select[Any]:
    """A SELECT of the ids of the documents whose terms contain every needle."""
    if dialect == "postgresql":
        return select(DocumentSearch.id).where(DocumentSearch.terms.op("@@")(_pg_tsquery(needles)))
    fts_query = dialects.fts_query(needles)
    match = text(f"{FTS_TABLE} MATCH :search_query").bindparams(search_query=fts_query)
    return select(literal_column("rowid")).select_from(text(FTS_TABLE)).where(match)
