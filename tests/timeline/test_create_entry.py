"""Writing entries of every kind: stored, with a first revision, an audit entry and mentions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.documents.service import history
from banso.search.models import DocumentSearch
from banso.timeline.models import Mention
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.timeline.helpers import at, make_entry


def test_it_writes_an_entry_of_every_kind(session: Session, actor: Actor) -> None:
    account = make_account(session)
    for kind in ("hearing", "trouble", "call", "email", "cancellation_interview", "note"):
        entry = make_entry(session, actor, account, kind=kind, title=f"{kind} の記録")
        assert entry.id is not None
        assert entry.kind == kind
        assert entry.author_id == actor.user_id
        assert entry.occurred_at == at("2025-04-01")


def test_it_keeps_the_first_revision_and_an_audit_entry(session: Session, actor: Actor) -> None:
    account = make_account(session)
    entry = make_entry(session, actor, account, body="初回ヒアリング")
    revisions = history(session, "timeline_entry", entry.id)
    assert [r.version for r in revisions] == [1]
    assert revisions[0].fields["body"] == "初回ヒアリング"
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "timeline_entry", AuditEntry.entity_id == entry.id
        )
    ).all()
    assert [a.action for a in audit] == ["create"]


def test_it_records_the_people_mentioned(session: Session, actor: Actor, bob: Person) -> None:
    account = make_account(session)
    contact = make_contact(session, account, name="佐藤 花子")
    body = f"@[佐藤 花子](contact:{contact.id}) から要望。@[bob](user:{bob.user.id}) が対応。"
    entry = make_entry(session, actor, account, body=body)
    found = session.scalars(select(Mention).where(Mention.entity_id == entry.id)).all()
    assert {(m.user_id, m.contact_id) for m in found} == {(None, contact.id), (bob.user.id, None)}
    assert all(m.account_id == account.id and m.entity == "timeline_entry" for m in found)


def test_it_puts_the_entry_in_the_search_index(session: Session, actor: Actor) -> None:
    account = make_account(session)
    entry = make_entry(
        session,
        actor,
        account,
        kind="cancellation_interview",
        title="解約ヒアリング",
        body="決裁者が異動した",
    )
    row = session.scalar(
        select(DocumentSearch).where(
            DocumentSearch.kind == "timeline_entry", DocumentSearch.ref_id == entry.id
        )
    )
    assert row is not None
    assert row.url == f"/timeline/{entry.id}"
    assert row.account_id == account.id
