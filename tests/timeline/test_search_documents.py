"""The timeline's search documents, for ``banso search reindex``, and search after a save."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.search.documents import search
from banso.timeline.schemas import EntryPatch
from banso.timeline.service import search_documents, update_entry
from tests.factories import make_account
from tests.timeline.helpers import make_entry


def test_it_yields_every_entry_with_its_reasons(session: Session, actor: Actor) -> None:
    account = make_account(session)
    entry = make_entry(
        session,
        actor,
        account,
        kind="cancellation_interview",
        title="解約ヒアリング",
        reason_keys=["competitor"],
        improvement="乗り換え防止の提案",
    )
    docs = {d.ref_id: d for d in search_documents(session)}
    doc = docs[entry.id]
    assert (doc.kind, doc.account_id, doc.url) == (
        "timeline_entry",
        account.id,
        f"/timeline/{entry.id}",
    )
    assert "競合への乗り換え" in doc.body and "乗り換え防止の提案" in doc.body


def test_it_finds_an_edited_entry_by_a_two_character_japanese_word(
    session: Session, actor: Actor
) -> None:
    account = make_account(session)
    entry = make_entry(session, actor, account, title="定例", body="特記なし")
    update_entry(session, actor, entry.id, EntryPatch(version=1, body="先方から解約の示唆"))
    hits = search(session, "解約").hits
    assert [h.ref_id for h in hits if h.kind == "timeline_entry"] == [entry.id]
