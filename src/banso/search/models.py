"""The search index's tables: one row of terms per account, and the queue of accounts to redo."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base

# PostgreSQL indexes a tsvector with GIN; on SQLite the terms are plain text that an FTS5
# table (created by banso.search.dialects, as Alembic cannot describe virtual tables) indexes.
Terms = Text().with_variant(TSVECTOR(), "postgresql")


class AccountSearch(Base):
    """The search terms of one account (name, reading, domains, tags, contacts, text fields)."""

    __tablename__ = "account_search"

    # No foreign key on purpose: a merge moves every row that points at an account, and an
    # index row must not move (the queue redoes both accounts instead, and drops deleted ones).
    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    terms: Mapped[str] = mapped_column(Terms)


# On SQLite the FTS5 table is the index: a partial index that holds no row keeps the schema
# the same on both databases without storing the terms twice.
Index(
    "ix_account_search_terms",
    AccountSearch.terms,
    postgresql_using="gin",
    sqlite_where=text("0"),
)


class SearchQueue(Base):
    """Accounts whose searchable text changed since they were last indexed.

    Database triggers on accounts, contacts, tags and domains fill it, so every write path
    (services, imports, merges, the demo generator, plain SQL) keeps search correct; the
    search service indexes the queued accounts before it answers. Ids only grow, so that a
    change queued while a batch is being indexed is kept for the next batch.
    """

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int]


class DocumentSearch(Base):
    """One written document (timeline entry, meeting, task, knowledge page, observation...) in
    the search index: its plain text for snippets, and its terms (bigrams, as for accounts).

    Written by the owning capability's service in the same transaction as the document
    (``banso.search.documents.put``/``drop``); ``banso search reindex`` rebuilds it.
    """

    __tablename__ = "document_search"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    ref_id: Mapped[int]
    account_id: Mapped[int | None] = mapped_column(index=True)
    author_id: Mapped[int | None] = mapped_column(index=True)
    occurred_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(300))
    terms: Mapped[str] = mapped_column(Terms)


Index("ix_document_search_ref", DocumentSearch.kind, DocumentSearch.ref_id, unique=True)
Index("ix_document_search_at", DocumentSearch.occurred_at)
Index(
    "ix_document_search_terms",
    DocumentSearch.terms,
    postgresql_using="gin",
    sqlite_where=text("0"),
)
