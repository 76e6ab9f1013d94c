"""A common word is fetched in time order and checked row by row (instead of sorting every
match): the same hits, in the same order, as reading the matches from the term index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from banso.search import document_sql
from banso.search.documents import put_many, search
from tests.search._docs import doc

START = datetime(2024, 1, 1, tzinfo=UTC)
BODIES = ["解約の相談", "定例の議事録", "ｶｲﾔｸ 手続き", "Renewal 解約", "価格の話"]


@pytest.fixture
def many(session: Session) -> None:
    docs = [
        doc(
            i,
            f"記録 {i}",
            BODIES[i % len(BODIES)],
            kind="meeting" if i % 3 == 0 else "timeline_entry",
            account_id=1 + i % 2,
            # shuffled times, some equal: the order must come from the times, not the ids
            occurred_at=START + timedelta(hours=(i * 37) % 60),
        )
        for i in range(1, 121)
    ]
    put_many(session, docs)


def _pages(session: Session, q: str, **filters: object) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        results = search(session, q, cursor=cursor, limit=7, **filters)  # type: ignore[arg-type]
        seen.extend(h.ref_id for h in results.hits)
        if not results.more:
            return seen
        cursor = results.next_cursor


CASES = [
    ("解約", {}),
    ("かいやく", {}),
    ("約", {}),
    ("解約 renewal", {}),
    ("解約", {"kinds": ["meeting"]}),
    ("解約", {"account_id": 2}),
    ("議事録", {"since": START + timedelta(hours=10), "until": START + timedelta(hours=40)}),
]


@pytest.mark.parametrize(("q", "filters"), CASES)
def test_it_finds_the_same_pages_whichever_way_it_reads(
    session: Session, many: None, monkeypatch: pytest.MonkeyPatch, q: str, filters: dict
) -> None:
    from_terms = _pages(session, q, **filters)
    assert from_terms, q
    monkeypatch.setattr(document_sql, "COMMON", 1)  # every word counts as common
    monkeypatch.setattr(document_sql, "WALK_BATCH", 4)
    for window in (3, 10, 1000):  # the walk gives up early, midway, or never
        monkeypatch.setattr(document_sql, "WALK_ROWS", window)
        monkeypatch.setattr(document_sql, "WALK_ROWS_ONE_ACCOUNT", window)
        assert _pages(session, q, **filters) == from_terms, (q, window)
