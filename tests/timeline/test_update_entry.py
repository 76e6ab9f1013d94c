"""Editing an entry: history kept, and a concurrent edit merged instead of lost."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.documents.service import EditConflict, history
from banso.errors import InvalidInput, NotFound
from banso.timeline.models import Mention
from banso.timeline.schemas import EntryPatch
from banso.timeline.service import update_entry
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.timeline.helpers import make_entry

BODY = "1行目: 導入の背景\n2行目: 現在の課題\n3行目: 次回までの宿題\n"


def test_it_saves_a_change_as_a_new_version(session: Session, actor: Actor) -> None:
    account = make_account(session)
    entry = make_entry(session, actor, account, body=BODY)
    update_entry(session, actor, entry.id, EntryPatch(version=1, title="ヒアリング（更新）"))
    assert entry.version == 2
    assert entry.title == "ヒアリング（更新）"
    assert [r.version for r in history(session, "timeline_entry", entry.id)] == [2, 1]


def test_it_merges_edits_of_different_lines(session: Session, actor: Actor, bob: Person) -> None:
    account = make_account(session)
    entry = make_entry(session, actor, account, body=BODY)
    theirs = BODY.replace("導入の背景", "導入の背景（経営層の意向）")
    update_entry(session, bob.actor, entry.id, EntryPatch(version=1, body=theirs))
    mine = BODY.replace("次回までの宿題", "次回までの宿題: 見積もり送付")
    with pytest.raises(EditConflict) as caught:
        update_entry(session, actor, entry.id, EntryPatch(version=1, body=mine))
    conflict = caught.value
    assert conflict.current_version == 2
    (body,) = [f for f in conflict.fields if f.name == "body"]
    assert body.clean
    assert "経営層の意向" in body.merged and "見積もり送付" in body.merged
    assert entry.body == theirs  # nothing of mine was written
    update_entry(session, actor, entry.id, EntryPatch(version=2, body=body.merged))
    assert "経営層の意向" in entry.body and "見積もり送付" in entry.body


def test_it_keeps_both_sides_of_a_clash(session: Session, actor: Actor, bob: Person) -> None:
    account = make_account(session)
    entry = make_entry(session, actor, account, body=BODY)
    update_entry(
        session,
        bob.actor,
        entry.id,
        EntryPatch(version=1, body=BODY.replace("現在の課題", "課題A")),
    )
    with pytest.raises(EditConflict) as caught:
        update_entry(
            session,
            actor,
            entry.id,
            EntryPatch(version=1, body=BODY.replace("現在の課題", "課題B")),
        )
    (body,) = [f for f in caught.value.fields if f.name == "body"]
    assert not body.clean
    assert "課題A" in body.merged and "課題B" in body.merged
    assert caught.value.changed_by == bob.user.name


def test_it_replaces_the_mentions_after_an_edit(
    session: Session, actor: Actor, bob: Person
) -> None:
    account = make_account(session)
    contact = make_contact(session, account)
    entry = make_entry(session, actor, account, body=f"@[山田](contact:{contact.id})")
    update_entry(
        session,
        actor,
        entry.id,
        EntryPatch(version=1, body=f"@[bob](user:{bob.user.id}) に引き継ぎ"),
    )
    found = session.scalars(select(Mention).where(Mention.entity_id == entry.id)).all()
    assert [(m.user_id, m.contact_id) for m in found] == [(bob.user.id, None)]


def test_it_refuses_bad_edits(session: Session, actor: Actor) -> None:
    account = make_account(session)
    entry = make_entry(session, actor, account)
    with pytest.raises(NotFound):
        update_entry(session, actor, 2_000_000_000, EntryPatch(version=1, title="x"))
    with pytest.raises(NotFound):
        update_entry(session, actor, -1, EntryPatch(version=1, title="x"))
    with pytest.raises(InvalidInput):
        update_entry(session, actor, entry.id, EntryPatch(version=1, severity="low"))
    with pytest.raises(InvalidInput):
        update_entry(session, actor, entry.id, EntryPatch(version=1, body="@[x](user:99999)"))
    assert entry.version == 1


def test_it_keeps_a_retired_reason_the_interview_already_gave(
    session: Session, actor: Actor
) -> None:
    from banso.timeline.reasons import get_reason

    account = make_account(session)
    entry = make_entry(
        session, actor, account, kind="cancellation_interview", reason_keys=["price", "support"]
    )
    get_reason(session, "support").is_active = False
    update_entry(session, actor, entry.id, EntryPatch(version=1, improvement="サポート体制の強化"))
    assert entry.reason_keys == ["price", "support"]
    with pytest.raises(InvalidInput):
        update_entry(
            session,
            actor,
            entry.id,
            EntryPatch(version=2, reason_keys=["price", "support", "nope"]),
        )
