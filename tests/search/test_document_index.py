"""Writing the document index: put replaces, drop removes, reindex rebuilds from the sources."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.errors import InvalidInput
from banso.search import documents
from banso.search.documents import Doc, drop, put, put_many, reindex
from banso.search.models import DocumentSearch
from tests.search._docs import doc, refs


def test_it_replaces_a_document_put_again(session: Session) -> None:
    put(session, doc(1, "解約ヒアリング", "価格"))
    put(session, doc(1, "定例", "オンボーディング"))
    assert refs(session, "解約") == set()
    assert refs(session, "定例") == {1}
    assert session.scalar(select(func.count()).select_from(DocumentSearch)) == 1


def test_it_keeps_the_same_number_in_two_kinds_apart(session: Session) -> None:
    put_many(session, [doc(1, "解約"), doc(1, "解約", kind="task")])
    assert {h.kind for h in documents.search(session, "解約").hits} == {"timeline_entry", "task"}


def test_it_removes_a_dropped_document(session: Session) -> None:
    put_many(session, [doc(1, "解約"), doc(2, "解約")])
    drop(session, "timeline_entry", 1)
    drop(session, "timeline_entry", 99)  # not there: nothing happens
    assert refs(session, "解約") == {2}


def test_it_rejects_a_document_it_cannot_index(session: Session) -> None:
    with pytest.raises(InvalidInput, match="kind"):
        put(session, doc(1, "解約", kind="email"))
    with pytest.raises(InvalidInput, match="occurred_at"):
        put(session, doc(1, "解約", occurred_at=datetime(2024, 1, 1)))
    with pytest.raises(InvalidInput, match="url"):
        put(session, doc(1, "解約", url="/" + "x" * 400))


def _source(name: str, docs: list[Doc]) -> types.ModuleType:
    module = types.ModuleType(name)

    def search_documents(session: Session) -> Iterator[Doc]:
        yield from docs

    module.search_documents = search_documents  # type: ignore[attr-defined]
    return module


def test_it_rebuilds_from_every_source(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    put(session, doc(99, "古い解約", "もう無い文書"))
    first = _source("tests_fake_timeline", [doc(1, "解約ヒアリング"), doc(2, "定例")])
    second = _source("tests_fake_tasks", [doc(1, "解約の手続き", kind="task")])
    monkeypatch.setitem(sys.modules, first.__name__, first)
    monkeypatch.setitem(sys.modules, second.__name__, second)
    monkeypatch.setattr(
        documents,
        "DOCUMENT_SOURCES",
        (first.__name__, "tests_no_such_capability", second.__name__),
    )
    seen: list[tuple[int, str]] = []
    assert reindex(session, lambda n, source: seen.append((n, source))) == 3
    assert {(h.kind, h.ref_id) for h in documents.search(session, "解約").hits} == {
        ("timeline_entry", 1),
        ("task", 1),
    }
    assert seen == [(2, first.__name__), (3, second.__name__)]


def test_it_does_not_hide_a_broken_source(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A source that exists but fails to import (a missing dependency) fails the rebuild."""
    (tmp_path / "tests_broken_source.py").write_text("import tests_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(documents, "DOCUMENT_SOURCES", ("tests_broken_source",))
    with pytest.raises(ModuleNotFoundError, match="tests_missing_dependency"):
        reindex(session)


def test_it_indexes_the_real_sources(session: Session) -> None:
    """Every capability's search_documents runs (on an empty database: nothing to index)."""
    assert reindex(session) == 0
    assert documents.search(session, "解約").hits == []


def test_it_reports_a_search_at_the_right_time(session: Session) -> None:
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    put(session, doc(1, "解約", occurred_at=when))
    (hit,) = documents.search(session, "解約").hits
    assert hit.occurred_at == when and hit.occurred_at.tzinfo is not None
