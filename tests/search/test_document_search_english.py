"""Document search in English: case-insensitive words, every word must match (AND)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.search.documents import put_many
from tests.search._docs import doc, refs


@pytest.fixture
def documents(session: Session) -> None:
    put_many(
        session,
        [
            doc(1, "Quarterly business review", "Adoption of Dashboards is up 20%."),
            doc(2, "Kickoff", "Success criteria agreed for the dashboards rollout."),
            doc(3, "Renewal risk", "Budget cuts; the champion is leaving. 解約の可能性。"),
            doc(4, "Follow-up", "Send the pricing proposal (renewal)."),
        ],
    )


def test_it_ignores_case(session: Session, documents: None) -> None:
    assert refs(session, "dashboards") == {1, 2}
    assert refs(session, "DASHBOARDS") == {1, 2}
    assert refs(session, "Kickoff") == {2}


def test_it_requires_every_word(session: Session, documents: None) -> None:
    assert refs(session, "renewal") == {3, 4}
    assert refs(session, "renewal pricing") == {4}
    assert refs(session, "renewal 解約") == {3}
    assert refs(session, "dashboards pricing") == set()


def test_it_matches_words_in_the_title_or_the_body(session: Session, documents: None) -> None:
    assert refs(session, "quarterly adoption") == {1}


def test_it_reads_markdown_as_text(session: Session) -> None:
    put_many(session, [doc(9, "Notes", "**Bold** [a link](https://example.com/x) and `code`")])
    assert refs(session, "bold link code") == {9}
    assert refs(session, "example") == set()  # the address of a link is not its text
