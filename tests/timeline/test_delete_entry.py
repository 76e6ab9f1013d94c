"""Deleting an entry: only once confirmed; history, mentions and its search entry go with it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.documents.service import history
from banso.errors import ConfirmationRequired, NotFound
from banso.search.models import DocumentSearch
from banso.timeline.models import Mention, TimelineEntry
from banso.timeline.service import delete_entry
from tests.conftest import Person
from tests.factories import make_account
from tests.timeline.helpers import make_entry


def test_it_asks_for_confirmation(session: Session, actor: Actor) -> None:
    entry = make_entry(session, actor, make_account(session))
    with pytest.raises(ConfirmationRequired):
        delete_entry(session, actor, entry.id, confirm=False)
    assert session.get(TimelineEntry, entry.id) is not None


def test_it_deletes_everything_of_the_entry(session: Session, actor: Actor, bob: Person) -> None:
    entry = make_entry(session, actor, make_account(session), body=f"@[bob](user:{bob.user.id})")
    entry_id = entry.id
    delete_entry(session, actor, entry_id, confirm=True)
    assert session.get(TimelineEntry, entry_id) is None
    assert history(session, "timeline_entry", entry_id) == []
    assert not session.scalars(select(Mention).where(Mention.entity_id == entry_id)).all()
    assert not session.scalars(
        select(DocumentSearch).where(
            DocumentSearch.ref_id == entry_id, DocumentSearch.kind == "timeline_entry"
        )
    ).all()
    actions = session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.entity == "timeline_entry", AuditEntry.entity_id == entry_id
        )
    ).all()
    assert sorted(actions) == ["create", "delete"]


def test_it_refuses_an_unknown_entry(session: Session, actor: Actor) -> None:
    with pytest.raises(NotFound):
        delete_entry(session, actor, 2_000_000_000, confirm=True)
