"""Document search pages: newest first, a cursor to the next page, bad cursors and queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from banso.errors import InvalidInput
from banso.search.documents import encode_cursor, put_many, search
from tests.search._docs import doc

SAME_TIME = datetime(2024, 7, 1, tzinfo=UTC)


def test_it_pages_newest_first_without_gaps_or_repeats(session: Session) -> None:
    docs = [
        doc(i, f"定例 {i}", occurred_at=SAME_TIME - timedelta(days=i % 7)) for i in range(1, 26)
    ]
    put_many(session, docs)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        results = search(session, "定例", cursor=cursor, limit=7)
        seen.extend(h.ref_id for h in results.hits)
        pages += 1
        if not results.more:
            break
        cursor = results.next_cursor
    assert pages == 4
    assert sorted(seen) == list(range(1, 26))
    times = [d.occurred_at for d in sorted(docs, key=lambda d: seen.index(d.ref_id))]
    assert times == sorted(times, reverse=True)


def test_it_says_there_is_no_more_on_the_last_page(session: Session) -> None:
    put_many(session, [doc(1, "定例"), doc(2, "定例")])
    results = search(session, "定例", limit=2)
    assert len(results.hits) == 2
    assert not results.more and results.next_cursor is None


def test_it_rejects_a_cursor_it_did_not_give(session: Session) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        search(session, "定例", cursor="not-a-cursor")
    assert search(session, "定例", cursor=encode_cursor(SAME_TIME, 5)).hits == []


def test_it_rejects_a_query_too_long_or_with_too_many_words(session: Session) -> None:
    with pytest.raises(InvalidInput, match="characters"):
        search(session, "あ" * 201)
    with pytest.raises(InvalidInput, match="words"):
        search(session, " ".join("ab" for _ in range(11)))


def test_it_finds_nothing_for_punctuation_only(session: Session) -> None:
    put_many(session, [doc(1, "「」・！")])
    assert search(session, "・！").hits == []
