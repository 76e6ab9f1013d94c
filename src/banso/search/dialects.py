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


def fts5_statements(content: str, key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(setup, teardown) of an FTS5 index ``<content>_fts`` over the ``terms`` column of the
    table ``content`` (external content, rowid = ``key``), kept in step by triggers; the setup
    ends by building the index from the rows already there."""
    fts = f"{content}_fts"
    setup = (
        f"CREATE VIRTUAL TABLE {fts} USING fts5(terms, content='{content}', "
        f"content_rowid='{key}', tokenize='ascii', prefix='5', detail='full')",
        f"""CREATE TRIGGER {fts}_insert AFTER INSERT ON {content} BEGIN
            INSERT INTO {fts}(rowid, terms) VALUES (new.{key}, new.terms); END""",
        f"""CREATE TRIGGER {fts}_delete AFTER DELETE ON {content} BEGIN
            INSERT INTO {fts}({fts}, rowid, terms) VALUES ('delete', old.{key}, old.terms); END""",
        f"""CREATE TRIGGER {fts}_update AFTER UPDATE ON {content} BEGIN
            INSERT INTO {fts}({fts}, rowid, terms) VALUES ('delete', old.{key}, old.terms);
            INSERT INTO {fts}(rowid, terms) VALUES (new.{key}, new.terms); END""",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    )
    teardown = (
        f"DROP TRIGGER IF EXISTS {fts}_insert",
        f"DROP TRIGGER IF EXISTS {fts}_delete",
        f"DROP TRIGGER IF EXISTS {fts}_update",
        f"DROP TABLE IF EXISTS {fts}",
    )
    return setup, teardown


def create_fts_if_missing(connection: Connection, fts: str, setup: tuple[str, ...]) -> None:
    """Run ``setup`` on SQLite when the FTS5 table ``fts`` does not exist (else nothing).

    Checked on every call rather than remembered: a rolled-back transaction or another
    process may have removed or created it meanwhile, and the check costs microseconds.
    """
    if connection.dialect.name != "sqlite":
        return
    found = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": fts},
    ).first()
    if found is None:
        for statement in setup:
            connection.execute(text(statement))


# An FTS5 index over account_search.terms. Alembic cannot describe a virtual table, so it lives
# outside the migrated schema and is created, and filled from account_search, when first needed.
FTS_TABLE = "account_search_fts"
_SQLITE_SETUP, SQLITE_TEARDOWN = fts5_statements("account_search", "account_id")


def ensure_index(connection: Connection) -> None:
    """Create the SQLite FTS5 table on first use (PostgreSQL needs nothing beyond the schema)."""
    create_fts_if_missing(connection, FTS_TABLE, _SQLITE_SETUP)


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
        query = pg_query(needles)
        # Written into the SQL, not bound: a prepared statement's generic plan cannot see how
        # rare the terms are and would scan every account for a query that matches none.
        # Safe, as the query is made only of terms (letters) and operators built above.
        inline: BindParameter[str] = bindparam("search_query", query, literal_execute=True)
        return select(search.c.account_id).where(
            search.c.terms.op("@@")(func.to_tsquery(text("'simple'"), inline))
        )
    fts = table(FTS_TABLE, column("rowid"))
    query = fts_query(needles)
    match: ColumnElement[bool] = text(f"{FTS_TABLE} MATCH :search_query").bindparams(
        search_query=query
    )  # type: ignore[assignment]
    return select(fts.c.rowid).where(match)


def pg_query(needles: list[Needle]) -> str:
    """The tsquery text for PostgreSQL: every needle, a phrase of terms or a prefix."""
    return " & ".join(_pg_needle(n) for n in needles)


def fts_query(needles: list[Needle]) -> str:
    """The MATCH text for SQLite FTS5: every needle, a phrase of terms or a prefix."""
    return " AND ".join(_fts_needle(n) for n in needles)


def _pg_needle(needle: Needle) -> str:
    if needle.prefix:
        return f"{needle.terms[0]}:*"
    return "(" + " <-> ".join(needle.terms) + ")"


def _fts_needle(needle: Needle) -> str:
    if needle.prefix:
        return f"{needle.terms[0]}*"
    return '"' + " ".join(needle.terms) + '"'
