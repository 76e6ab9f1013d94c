"""Keep the account search index in step with the data, and turn a query into a filter."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, func, insert, select, text
from sqlalchemy.orm import Session

from banso.accounts.models import (
    Account,
    AccountDomain,
    AccountTag,
    Contact,
    CustomFieldDefinition,
)
from banso.search import dialects
from banso.search.models import AccountSearch, SearchQueue
from banso.search.terms import document_terms, parse_query

# Custom field types whose values are words a user may search for.
SEARCHABLE_CUSTOM_TYPES = ("text", "long_text", "single_choice", "multi_choice", "url")
_BATCH = 1000


def account_matches(session: Session, q: str) -> ColumnElement[bool] | None:
    """A filter on Account for the query ``q`` (None when ``q`` has nothing to search for).

    Indexes the accounts changed since the last search first, so results are never stale.
    """
    needles = parse_query(q)
    if not needles:
        return None
    refresh(session)
    dialect = session.get_bind().dialect.name
    return Account.id.in_(dialects.matching_ids(dialect, needles))


def refresh(session: Session, progress: Callable[[int, int], None] | None = None) -> int:
    """Index every queued account (added, changed or removed); returns how many were done."""
    connection = session.connection()
    dialects.ensure_index(connection)
    top = connection.scalar(select(func.max(SearchQueue.id)))
    if top is None:
        return 0
    ids = list(
        connection.scalars(
            select(SearchQueue.account_id)
            .where(SearchQueue.id <= top)
            .distinct()
            .order_by(SearchQueue.account_id)
        )
    )
    for start in range(0, len(ids), _BATCH):
        _index(connection, ids[start : start + _BATCH])
        if progress is not None:
            progress(min(start + _BATCH, len(ids)), len(ids))
    connection.execute(delete(SearchQueue).where(SearchQueue.id <= top))
    return len(ids)


def reindex_all(session: Session, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index from the accounts (``banso search reindex``)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # Rebuilding FTS5 from scratch once is far faster than updating it row by row.
        for statement in dialects.SQLITE_TEARDOWN:
            connection.execute(text(statement))
    connection.execute(delete(AccountSearch))
    connection.execute(delete(SearchQueue))
    connection.execute(
        insert(SearchQueue).from_select(["account_id"], select(Account.id).order_by(Account.id))
    )
    if connection.dialect.name == "sqlite":
        # With account_search empty the FTS5 table can be created before the rows arrive.
        dialects.ensure_index(connection)
    return refresh(session, progress)


def _index(connection: Connection, account_ids: list[int]) -> None:
    documents = _documents(connection, account_ids)
    gone = [i for i in account_ids if i not in documents]
    if gone:
        connection.execute(delete(AccountSearch).where(AccountSearch.account_id.in_(gone)))
    rows = [{"account_id": i, "terms": document_terms(v)} for i, v in documents.items()]
    dialects.upsert_terms(connection, rows)


def _documents(connection: Connection, account_ids: list[int]) -> dict[int, list[str | None]]:
    """The searchable values of each account that still exists, in a fixed field order."""
    custom_keys = list(
        connection.scalars(
            select(CustomFieldDefinition.key).where(
                CustomFieldDefinition.entity == "account",
                CustomFieldDefinition.type.in_(SEARCHABLE_CUSTOM_TYPES),
            )
        )
    )
    documents: dict[int, list[str | None]] = {}
    accounts = connection.execute(
        select(Account.id, Account.name, Account.name_kana, Account.custom).where(
            Account.id.in_(account_ids)
        )
    )
    for account_id, name, kana, custom in accounts:
        documents[account_id] = [name, kana, *_custom_texts(custom or {}, custom_keys)]
    for model, columns in (
        (AccountDomain, (AccountDomain.domain,)),
        (AccountTag, (AccountTag.tag,)),
        (Contact, (Contact.name, Contact.name_kana, Contact.email)),
    ):
        rows = connection.execute(
            select(model.account_id, *columns).where(model.account_id.in_(documents))
        )
        extra: dict[int, list[str | None]] = defaultdict(list)
        for account_id, *found in rows:
            extra[account_id].extend(found)
        for account_id, found in extra.items():
            documents[account_id].extend(found)
    return documents


def _custom_texts(custom: dict[str, Any], keys: Iterable[str]) -> list[str]:
    texts: list[str] = []
    for key in keys:
        value = custom.get(key)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(v for v in value if isinstance(v, str))
    return texts
