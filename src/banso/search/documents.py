"""Search across written documents: timeline entries, meetings, tasks, knowledge pages and
observations, in Japanese and English.

Each capability writes its documents here in the same transaction as the document itself
(``put`` after a create or an update, ``drop`` after a delete) and yields all of them from its
service's ``search_documents(session)`` for ``reindex``. The index stores the plain text (for
snippets) and its terms: overlapping bigrams of the folded text (see banso.search.folding and
banso.search.terms), so a two-character Japanese query such as 解約 is one indexed term on both
SQLite (FTS5) and PostgreSQL (tsvector + GIN).
"""

from __future__ import annotations

import base64
import importlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from markupsafe import Markup
from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.auth.models import User
from banso.documents.markdown import plain_text
from banso.errors import InvalidInput
from banso.search import document_sql
from banso.search.folding import fold
from banso.search.models import DocumentSearch
from banso.search.service import account_matches
from banso.search.snippets import highlight, snippet
from banso.search.terms import MAX_QUERY_LENGTH, MAX_QUERY_WORDS, Needle, _spell

KINDS = ("timeline_entry", "meeting", "task", "knowledge_page", "observation")
DOCUMENT_SOURCES = (
    "banso.timeline.service",
    "banso.meetings.service",
    "banso.tasks.service",
    "banso.knowledge.service",
    "banso.observations.service",
)
MAX_LIMIT = 100
TITLE_LENGTH = 300
URL_LENGTH = 300
_END = "\x00"
_BATCH = 2000


@dataclass(frozen=True)
class Doc:
    """One searchable document, as its owning capability describes it."""

    kind: str
    ref_id: int
    account_id: int | None
    author_id: int | None
    occurred_at: datetime  # aware
    title: str
    body: str  # Markdown or plain text
    url: str


@dataclass(frozen=True)
class Hit:
    """One search result: where it is, and what matched (title and snippet highlighted)."""

    kind: str
    ref_id: int
    account_id: int | None
    account_name: str | None
    author_id: int | None
    author_name: str | None
    occurred_at: datetime
    title: Markup
    url: str
    snippet: Markup


@dataclass(frozen=True)
class Results:
    """A page of hits, newest first; ``next_cursor`` fetches the next page (None at the end)."""

    hits: list[Hit]
    next_cursor: str | None

    @property
    def more(self) -> bool:
        return self.next_cursor is not None


# --- writing -----------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _spelled(char: str) -> str:
    return _spell(char)


def field_terms(text: str) -> list[str]:
    """The bigram terms of one field, ending with (last character, end)."""
    chars = fold(text)
    if not chars:
        return []
    spelled = [_spelled(c) for c in chars]
    spelled.append(_spelled(_END))
    return [a + b for a, b in itertools.pairwise(spelled)]


def doc_terms(title: str, body: str) -> str:
    """The terms of a document's title and (plain) body, space-separated."""
    return " ".join(field_terms(title) + field_terms(body))


def _row(doc: Doc) -> dict[str, object]:
    _check(doc)
    title = " ".join(doc.title.split())[:TITLE_LENGTH]
    body = plain_text(doc.body)
    return {
        "kind": doc.kind,
        "ref_id": doc.ref_id,
        "account_id": doc.account_id,
        "author_id": doc.author_id,
        "occurred_at": doc.occurred_at.astimezone(UTC),
        "title": title,
        "body": body,
        "url": doc.url,
        "terms": doc_terms(title, body),
    }


def _check(doc: Doc) -> None:
    if doc.kind not in KINDS:
        raise InvalidInput.one("kind", f"{doc.kind!r} is not one of {', '.join(KINDS)}")
    if doc.occurred_at.tzinfo is None:
        raise InvalidInput.one("occurred_at", "must be timezone-aware")
    if len(doc.url) > URL_LENGTH:
        raise InvalidInput.one("url", f"is longer than {URL_LENGTH} characters")


def put(session: Session, doc: Doc) -> None:
    """Add a document to the index, or replace what the index had for it."""
    put_many(session, [doc])


def put_many(session: Session, docs: Iterable[Doc]) -> int:
    """Add or replace many documents at once (in batches); returns how many were written."""
    connection = session.connection()
    document_sql.ensure_index(connection)
    return sum(_write(connection, batch) for batch in _batches(docs, _BATCH))


def _write(connection: Connection, docs: list[Doc]) -> int:
    """Store one batch of documents; the last of a (kind, ref_id) given twice wins."""
    rows = {(doc.kind, doc.ref_id): _row(doc) for doc in docs}
    document_sql.upsert(connection, list(rows.values()))
    return len(rows)


def drop(session: Session, kind: str, ref_id: int) -> None:
    """Remove a document from the index (nothing happens if it was not there)."""
    connection = session.connection()
    document_sql.ensure_index(connection)
    connection.execute(
        delete(DocumentSearch).where(DocumentSearch.kind == kind, DocumentSearch.ref_id == ref_id)
    )


def reindex(session: Session, progress: Callable[[int, str], None] | None = None) -> int:
    """Rebuild the whole document index from every capability's ``search_documents``.

    ``progress(done, source module)`` is called after each batch. Returns the count indexed.
    The rows are loaded into an emptied index and the term index is built once at the end (on
    SQLite the FTS5 table is dropped meanwhile, see ``document_sql.clear``).
    """
    connection = session.connection()
    document_sql.clear(connection)
    done = 0
    for module_name in DOCUMENT_SOURCES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # that capability is not installed (yet)
        source = getattr(module, "search_documents", None)
        if source is None:
            continue
        for batch in _batches(source(session), _BATCH):
            done += _write(connection, batch)
            if progress is not None:
                progress(done, module_name)
    document_sql.ensure_index(connection)  # SQLite: creates the FTS5 table, built from the rows
    document_sql.optimise(connection)
    return done


def _batches(docs: Iterable[Doc], size: int) -> Iterator[list[Doc]]:
    iterator = iter(docs)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


# --- searching ---------------------------------------------------------------------------


def parse_words(q: str) -> list[str]:
    """The folded words of a query (each must match). Raises InvalidInput for a query too
    long or with too many words."""
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidInput.one(
            "q", f"is {len(q)} characters long; search with at most {MAX_QUERY_LENGTH}"
        )
    words = q.replace(_END, " ").split()
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidInput.one(
            "q", f"has {len(words)} words; search with at most {MAX_QUERY_WORDS}"
        )
    folded = (fold(w) for w in words)
    return list(dict.fromkeys(w for w in folded if w))


def needle(word: str) -> Needle:
    """A folded word as index terms: a prefix for one character, a phrase of pairs otherwise."""
    if len(word) == 1:
        return Needle((_spelled(word),), prefix=True)
    return Needle(tuple(_spelled(a) + _spelled(b) for a, b in itertools.pairwise(word)), False)


def matches(words: list[str], title: str, body: str) -> bool:
    """Whether a document matches every folded word, exactly as the term index decides: each
    word within one field (a one-character word: that character anywhere in a field)."""
    folded_title = fold(title)
    missing = [w for w in words if w not in folded_title]
    if not missing:
        return True
    folded_body = fold(body)
    return all(w in folded_body for w in missing)


def encode_cursor(occurred_at: datetime, row_id: int) -> str:
    raw = f"{occurred_at.astimezone(UTC).isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|")
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(at)
        return when, int(row_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.one("cursor", "is not a cursor this search gave") from exc


def search(
    session: Session,
    q: str,
    *,
    kinds: Iterable[str] | None = None,
    account_id: int | None = None,
    author_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Results:
    """The documents matching every word of ``q``, newest first, one page at a time.

    ``since``/``until`` bound ``occurred_at`` (``since <= occurred_at < until``). A query with
    nothing to search for gives no hits.
    """
    words = parse_words(q)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.one("limit", f"must be from 1 to {MAX_LIMIT}")
    kind_list = list(dict.fromkeys(kinds)) if kinds else None
    for kind in kind_list or ():
        if kind not in KINDS:
            raise InvalidInput.one("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput.one(name, "must be timezone-aware")
    after = decode_cursor(cursor) if cursor else None
    if not words:
        return Results([], None)
    connection = session.connection()
    document_sql.ensure_index(connection)
    rows = document_sql.find(
        connection,
        [needle(w) for w in words],
        document_sql.Filters(kind_list, account_id, author_id, since, until, after),
        limit + 1,
        lambda title, body: matches(words, title, body),
    )
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].occurred_at, page[-1].id) if len(rows) > limit else None
    return Results(_hits(session, page, words), next_cursor)


def _hits(session: Session, rows: list[document_sql.Row], words: list[str]) -> list[Hit]:
    account_ids = {r.account_id for r in rows if r.account_id is not None}
    author_ids = {r.author_id for r in rows if r.author_id is not None}
    accounts: dict[int, str] = {}
    if account_ids:
        found = session.execute(select(Account.id, Account.name).where(Account.id.in_(account_ids)))
        accounts = {account_id: name for account_id, name in found}
    authors: dict[int, str] = {}
    if author_ids:
        found = session.execute(select(User.id, User.name).where(User.id.in_(author_ids)))
        authors = {user_id: name for user_id, name in found}
    return [
        Hit(
            kind=r.kind,
            ref_id=r.ref_id,
            account_id=r.account_id,
            account_name=accounts.get(r.account_id) if r.account_id is not None else None,
            author_id=r.author_id,
            author_name=authors.get(r.author_id) if r.author_id is not None else None,
            occurred_at=r.occurred_at,
            title=highlight(r.title, words),
            url=r.url,
            snippet=snippet(r.body, words),
        )
        for r in rows
    ]


# --- the page's helpers ------------------------------------------------------------------


def customers_named(session: Session, name: str, limit: int = 10) -> list[tuple[int, str]]:
    """Customers whose name (or reading, domain...) matches ``name``, for the customer filter:
    ``[(account id, name)]``, at most ``limit``, by name."""
    condition = account_matches(session, name)
    if condition is None:
        return []
    found = session.execute(
        select(Account.id, Account.name).where(condition).order_by(Account.name).limit(limit)
    )
    return [(account_id, account_name) for account_id, account_name in found]


def account_name(session: Session, account_id: int) -> str | None:
    return session.scalar(select(Account.name).where(Account.id == account_id))


def authors(session: Session) -> list[tuple[int, str]]:
    """The users a search can be narrowed to, by name."""
    found = session.execute(select(User.id, User.name).order_by(User.name, User.id))
    return [(user_id, name) for user_id, name in found]
