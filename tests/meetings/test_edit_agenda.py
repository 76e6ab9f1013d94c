from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.documents.service import EditConflict, history
from banso.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from banso.meetings import service
from banso.meetings.schemas import ItemIn, ItemPatch, parse
from banso.search.models import DocumentSearch
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting


def test_it_adds_items_in_order_with_their_hypotheses(session: Session, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    first = make_item(session, bob.actor, meeting, "活用状況", "管理画面の利用が少ない")
    second = make_item(session, bob.actor, meeting, "更新意向", "値上げに懸念があるはず")
    assert [i.id for i in service.items_of(session, meeting.id)] == [first.id, second.id]
    assert second.hypothesis == "値上げに懸念があるはず"
    assert [r.version for r in history(session, "meeting_item", first.id)] == [1]
    body = session.scalar(
        select(DocumentSearch.body).where(
            DocumentSearch.ref_id == meeting.id, DocumentSearch.kind == "meeting"
        )
    )
    assert body is not None and "値上げに懸念" in body


def test_it_saves_the_customers_view_and_decision_with_history(
    session: Session, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting)
    service.update_item(
        session,
        bob.actor,
        meeting.id,
        item.id,
        ItemPatch(
            version=1,
            customer_view="異動で担当が変わった",
            decision="新担当者向けに説明会を開く",
        ),
    )
    assert item.version == 2
    assert item.decision == "新担当者向けに説明会を開く"
    assert [r.version for r in history(session, "meeting_item", item.id)] == [2, 1]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "meeting_item", AuditEntry.action == "update")
    ).one()
    assert entry.after == {
        "customer_view": "異動で担当が変わった",
        "decision": "新担当者向けに説明会を開く",
    }


def test_it_merges_two_people_writing_different_lines_during_the_meeting(
    session: Session, alice: Person, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting)
    service.update_item(
        session,
        bob.actor,
        meeting.id,
        item.id,
        ItemPatch(version=1, customer_view="一行目\n二行目\n"),
    )
    # Both opened version 2; alice saves first.
    service.update_item(
        session,
        alice.actor,
        meeting.id,
        item.id,
        ItemPatch(version=2, customer_view="一行目(山田様)\n二行目\n"),
    )
    with pytest.raises(EditConflict) as caught:
        service.update_item(
            session,
            bob.actor,
            meeting.id,
            item.id,
            ItemPatch(version=2, customer_view="一行目\n二行目\n三行目\n"),
        )
    conflict = caught.value
    assert conflict.current_version == 3
    merged = {f.name: f for f in conflict.fields}["customer_view"]
    assert merged.clean
    assert merged.merged == "一行目(山田様)\n二行目\n三行目\n"
    # Saving the merge against the new version keeps both edits.
    service.update_item(
        session, bob.actor, meeting.id, item.id, ItemPatch(version=3, customer_view=merged.merged)
    )
    assert item.customer_view == "一行目(山田様)\n二行目\n三行目\n"


def test_it_marks_both_sides_when_they_changed_the_same_line(
    session: Session, alice: Person, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting, hypothesis="価格に不満\n")
    service.update_item(
        session, alice.actor, meeting.id, item.id, ItemPatch(version=1, hypothesis="機能に不満\n")
    )
    with pytest.raises(EditConflict) as caught:
        service.update_item(
            session,
            bob.actor,
            meeting.id,
            item.id,
            ItemPatch(version=1, hypothesis="サポートに不満\n"),
        )
    merged = caught.value.fields[0]
    assert not merged.clean
    assert "機能に不満" in merged.merged and "サポートに不満" in merged.merged
    assert item.hypothesis == "機能に不満\n"


def test_it_reorders_items_without_making_open_edits_stale(session: Session, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    a, b, c = (make_item(session, bob.actor, meeting, t) for t in ("A", "B", "C"))
    order = service.move_item(session, bob.actor, meeting.id, c.id, "up")
    assert [i.topic for i in order] == ["A", "C", "B"]
    order = service.move_item(session, bob.actor, meeting.id, a.id, "up")  # already first
    assert [i.topic for i in order] == ["A", "C", "B"]
    order = service.move_item(session, bob.actor, meeting.id, a.id, "down")
    assert [i.topic for i in order] == ["C", "A", "B"]
    session.refresh(b)
    assert b.version == 1
    service.update_item(session, bob.actor, meeting.id, b.id, ItemPatch(version=1, decision="OK"))


def test_it_refuses_a_bad_direction(session: Session, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting)
    with pytest.raises(InvalidInput):
        service.move_item(session, bob.actor, meeting.id, item.id, "sideways")


def test_it_removes_an_item_at_the_version_read(session: Session, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting)
    with pytest.raises(Conflict):
        service.remove_item(session, bob.actor, meeting.id, item.id, version=7)
    service.remove_item(session, bob.actor, meeting.id, item.id, version=1)
    assert service.items_of(session, meeting.id) == []
    assert history(session, "meeting_item", item.id) == []


def test_it_does_not_find_an_item_through_another_meeting(session: Session, bob: Person) -> None:
    account = make_account(session)
    mine = make_meeting(session, bob.actor, account)
    other = make_meeting(session, bob.actor, account)
    item = make_item(session, bob.actor, other)
    with pytest.raises(NotFound):
        service.update_item(session, bob.actor, mine.id, item.id, ItemPatch(version=1, topic="x"))
    with pytest.raises(NotFound):
        service.update_item(session, bob.actor, mine.id, 2**40, ItemPatch(version=1, topic="x"))
    with pytest.raises(NotFound):
        service.add_item(session, bob.actor, 999_999, ItemIn(topic="x"))


def test_it_refuses_bad_item_texts(session: Session, bob: Person, charlie: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting)
    with pytest.raises(InvalidInput) as caught:
        parse(ItemPatch, {"version": 1, "decision": "長" * 20_001})
    assert caught.value.errors[0].field == "decision"
    with pytest.raises(InvalidInput) as caught:
        parse(ItemIn, {"topic": "   "})
    assert caught.value.errors[0].field == "topic"
    with pytest.raises(InvalidInput):
        service.update_item(
            session, bob.actor, meeting.id, item.id, ItemPatch(version=1, topic=None)
        )
    with pytest.raises(PermissionDenied):
        service.update_item(
            session, charlie.actor, meeting.id, item.id, ItemPatch(version=1, decision="x")
        )
