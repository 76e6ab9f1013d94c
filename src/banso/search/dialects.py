"""The SQL that differs between SQLite (FTS5) and PostgreSQL (tsvector + GIN), in one place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Text,
    bindparam,
    column,
    func,
    select,
    table,
    text,
    values,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import BindParameter

from banso.search.models import AccountSearch
from banso.search.terms import Needle

FTS_TABLE = "account_search_fts"
# An FTS5 index over account_search.terms (external content), kept in step by triggers.
# Alembic cannot describe a virtual table, so it lives outside the migrated schema and is
# created, and filled from account_search, the first time search needs it.
_SQLITE_SETUP = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(terms, content='account_search', "
    "content_rowid='account_id', tokenize='ascii', prefix='5', detail='full')",
    f"""CREATE TRIGGER account_search_fts_insert AFTER INSERT ON account_search BEGIN
        INSERT INTO {FTS_TABLE}(rowid, terms) VALUES (new.account_id, new.terms); END""",
    f"""CREATE TRIGGER account_search_fts_delete AFTER DELETE ON account_search BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, terms)
        VALUES ('delete', old.account_id, old.terms); END""",
    f"""CREATE TRIGGER account_search_fts_update AFTER UPDATE ON account_search BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, terms)
        VALUES ('delete', old.account_id, old.terms);
        INSERT INTO {FTS_TABLE}(rowid, terms) VALUES (new.account_id, new.terms); END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)
SQLITE_TEARDOWN = (
    "DROP TRIGGER IF EXISTS account_search_fts_insert",
    "DROP TRIGGER IF EXISTS account_search_fts_delete",
    "DROP TRIGGER IF EXISTS account_search_fts_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)


def ensure_index(connection: Connection) -> None:
    """Create the SQLite FTS5 table on first use (PostgreSQL needs nothing beyond the schema).

    Checked on every call rather than remembered: a rolled-back transaction or another
    process may have removed or created it meanwhile, and the check costs microseconds.
    """
    if connection.dialect.name != "sqlite":
        return
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": FTS_TABLE},
    ).first()
    if found is None:
        for statement in _SQLITE_SETUP:
            connection.execute(text(statement))


def upsert_terms(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Store ``{"account_id", "terms"}`` rows, replacing what an account had."""
    if not rows:
        return
    target = AccountSearch
    if connection.dialect.name == "postgresql":
        # The terms become a tsvector in the database: positions make phrases possible.
        given = values(column("account_id", Integer), column("terms", Text), name="given").data(
            [(r["account_id"], r["terms"]) for r in rows]
        )
        source = select(given.c.account_id, func.to_tsvector(text("'simple'"), given.c.terms))
        pg = pg_insert(target).from_select(["account_id", "terms"], source)
        connection.execute(
            pg.on_conflict_do_update(
                index_elements=["account_id"], set_={"terms": pg.excluded.terms}
            )
        )
        return
    lite = sqlite_insert(target)
    lite = lite.on_conflict_do_update(
        index_elements=["account_id"], set_={"terms": lite.excluded.terms}
    )
    connection.execute(lite, rows)


def matching_ids(dialect: str, needles: list[Needle]) -> Any:
    """A SELECT of the ids of the accounts whose terms contain every needle."""
    if dialect == "postgresql":
        search = AccountSearch.__table__
        query = " & ".join(_pg_needle(n) for n in needles)
        # Written into the SQL, not bound: a prepared statement's generic plan cannot see how
        # rare the terms are and would scan every account for a query that matches none.
        # Safe, as the query is made only of terms (letters) and operators built above.
        inline: BindParameter[str] = bindparam("search_query", query, literal_execute=True)
        return select(search.c.account_id).where(
            search.c.terms.op("@@")(func.to_tsquery(text("'simple'"), inline))
        )
    fts = table(FTS_TABLE, column("rowid"))
    query = " AND ".join(_fts_needle(n) for n in needles)
    match: ColumnElement[bool] = text(f"{FTS_TABLE} MATCH :search_query").bindparams(
        search_query=query
    )  # type: ignore[assignment]
    return select(fts.c.rowid).where(match)


def _pg_needle(needle: Needle) -> str:
    if needle.prefix:
        return f"{needle.terms[0]}:*"
    return "(" + " <-> ".join(needle.terms) + ")"


def _fts_needle(needle: Needle) -> str:
    if needle.prefix:
        return f"{needle.terms[0]}*"
    return '"' + " ".join(needle.terms) + '"'
