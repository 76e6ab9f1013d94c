from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from banso.meetings import service
from banso.meetings.schemas import ItemPatch
from banso.search.documents import search
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting


def test_it_gives_the_timeline_its_meetings_newest_first(session: Session, bob: Person) -> None:
    account = make_account(session)
    old = make_meeting(
        session,
        bob.actor,
        account,
        title="キックオフ",
        scheduled_at=datetime(2025, 4, 1, 1, tzinfo=UTC),
    )
    new = make_meeting(
        session, bob.actor, account, title="定例", scheduled_at=datetime(2025, 6, 1, 1, tzinfo=UTC)
    )
    item = make_item(session, bob.actor, new, topic="更新*条件*")
    service.update_item(
        session, bob.actor, new.id, item.id, ItemPatch(version=1, decision="年契約で更新する")
    )
    make_meeting(session, bob.actor, make_account(session, name="他社"))
    items = service.stream_items(session, account.id)
    assert [i.ref_id for i in items] == [new.id, old.id]
    first = items[0]
    assert (first.kind, first.url, first.extra["status"]) == (
        "meeting",
        f"/meetings/{new.id}",
        "planned",
    )
    assert "年契約で更新する" in first.body and "更新\\*条件\\*" in first.body
    since = service.stream_items(session, account.id, since=datetime(2025, 5, 1, tzinfo=UTC))
    assert [i.ref_id for i in since] == [new.id]
    until = service.stream_items(session, account.id, until=datetime(2025, 5, 1, tzinfo=UTC))
    assert [i.ref_id for i in until] == [old.id]


def test_it_is_found_by_a_two_character_japanese_word(session: Session, bob: Person) -> None:
    account = make_account(session)
    meeting = make_meeting(session, bob.actor, account, title="定例会議")
    item = make_item(session, bob.actor, meeting, topic="利用状況")
    service.update_item(
        session,
        bob.actor,
        meeting.id,
        item.id,
        ItemPatch(version=1, customer_view="解約を検討している部署がある"),
    )
    hits = search(session, "解約", account_id=account.id, kinds=("meeting",)).hits
    assert [h.ref_id for h in hits] == [meeting.id]
    other = search(session, "解約", account_id=account.id + 1, kinds=("meeting",)).hits
    assert other == []


def test_it_yields_every_meeting_for_a_reindex(session: Session, bob: Person) -> None:
    account = make_account(session)
    meetings = [make_meeting(session, bob.actor, account, title=f"会議{n}") for n in range(3)]
    make_item(session, bob.actor, meetings[1], topic="導入支援")
    docs = {d.ref_id: d for d in service.search_documents(session)}
    assert set(docs) >= {m.id for m in meetings}
    assert "導入支援" in docs[meetings[1].id].body
    assert docs[meetings[0].id].url == f"/meetings/{meetings[0].id}"
