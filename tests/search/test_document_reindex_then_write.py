"""After a rebuild (which loads the rows with the term index set aside on SQLite and builds it
once at the end), the index keeps up with every later put, replace and drop."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.search import documents
from banso.search.documents import Doc, drop, put, reindex
from banso.search.models import DocumentSearch
from tests.search._docs import doc, refs


def _source(name: str, docs: list[Doc]) -> types.ModuleType:
    module = types.ModuleType(name)

    def search_documents(session: Session) -> Iterator[Doc]:
        yield from docs

    module.search_documents = search_documents  # type: ignore[attr-defined]
    return module


def test_it_keeps_the_index_up_to_date_after_a_rebuild(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same document twice in a source: the last one wins, and it is counted once.
    source = _source(
        "tests_fake_rebuilt", [doc(1, "解約ヒアリング"), doc(2, "定例"), doc(2, "定例の議事録")]
    )
    monkeypatch.setitem(sys.modules, source.__name__, source)
    monkeypatch.setattr(documents, "DOCUMENT_SOURCES", (source.__name__,))
    assert reindex(session) == 2
    assert refs(session, "議事録") == {2}
    put(session, doc(3, "解約の手続き"))  # new
    put(session, doc(1, "オンボーディング"))  # replaced
    drop(session, "timeline_entry", 2)  # removed
    assert refs(session, "解約") == {3}
    assert refs(session, "オンボ") == {1}
    assert refs(session, "定例") == set()
    assert session.scalar(select(func.count()).select_from(DocumentSearch)) == 2
    assert reindex(session) == 2  # again, from the source: what the index had is gone
    assert refs(session, "解約") == {1}
    assert refs(session, "オンボ") == set()
