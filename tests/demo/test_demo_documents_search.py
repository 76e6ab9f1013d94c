"""The demo's documents are in the search index as they are written: a two-character Japanese
word finds them on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.demo.documents import generate_documents
from banso.demo.generator import DemoResult
from banso.knowledge.models import KnowledgePage
from banso.search.documents import search
from banso.search.models import DocumentSearch
from banso.timeline.models import TimelineEntry


def test_it_indexes_every_document_it_writes(session: Session, demo: DemoResult) -> None:
    result = generate_documents(session)
    indexed: dict[str, int] = dict(
        session.execute(
            select(DocumentSearch.kind, func.count()).group_by(DocumentSearch.kind)
        ).all()
    )
    assert indexed == {
        "timeline_entry": result.entries,
        "meeting": result.meetings,
        "task": result.tasks,
        "knowledge_page": result.pages,
        "observation": result.observations,
    }
    assert result.indexed == sum(indexed.values())


def test_it_finds_a_demo_entry_by_a_two_character_word(session: Session, demo: DemoResult) -> None:
    generate_documents(session)
    hits = search(session, "解約", kinds=["timeline_entry"], limit=100).hits
    assert hits
    interviews = set(
        session.scalars(
            select(TimelineEntry.id).where(TimelineEntry.kind == "cancellation_interview")
        )
    )
    assert interviews & {h.ref_id for h in hits}
    assert all("<mark>" in str(h.title) + str(h.snippet) for h in hits)
    pages = search(session, "仮説", kinds=["knowledge_page"]).hits
    slugs = set(
        session.scalars(
            select(KnowledgePage.slug).where(KnowledgePage.id.in_([h.ref_id for h in pages]))
        )
    )
    assert "hypothesis-writing" in slugs
