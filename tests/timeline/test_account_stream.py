"""A customer's stream: entries, meetings, contract movements and health band changes merged
newest first, filtered by kind and paged with a cursor."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.contracts.schemas import MovementIn
from banso.contracts.service import record_movement
from banso.errors import InvalidInput, NotFound
from banso.health.definitions import standard_scorecard
from banso.health.models import HealthBandChange
from banso.health.service import save_scorecard
from banso.meetings.schemas import MeetingIn
from banso.meetings.service import create_meeting
from banso.timeline.service import account_stream, stream_cursor
from tests.factories import make_account, make_contract
from tests.timeline.helpers import at, make_entry


def test_it_merges_every_source_newest_first(session: Session, actor: Actor) -> None:
    account = make_account(session)
    other = make_account(session, name="他社")
    contract = make_contract(session, account, start_date=date(2025, 4, 1), mrr=50_000)
    record_movement(
        session,
        actor,
        contract.id,
        MovementIn(kind="expansion", effective_date=date(2025, 6, 1), mrr=80_000),
    )
    card, _ = save_scorecard(session, actor, standard_scorecard())
    session.add(
        HealthBandChange(
            scorecard_id=card.id,
            account_id=account.id,
            as_of=date(2025, 5, 1),
            previous_as_of=date(2025, 4, 24),
            from_band="green",
            to_band="yellow",
            from_score=75.0,
            to_score=55.0,
        )
    )
    create_meeting(
        session,
        actor,
        MeetingIn(account_id=account.id, title="定例MTG", scheduled_at=at("2025-05-15", "14:00")),
    )
    hearing = make_entry(session, actor, account, occurred_at=at("2025-04-10"))
    make_entry(session, actor, other, occurred_at=at("2025-04-11"))
    items = account_stream(session, account.id)
    assert [i.kind for i in items] == [
        "contract_movement",
        "meeting",
        "health_change",
        "hearing",
        "contract_movement",
    ]
    assert items[0].extra["mrr_delta"] == 30_000
    assert items[0].extra["movement"] == "expansion"
    assert items[2].extra["from_band"] == "良好" and items[2].extra["to_band"] == "注意"
    assert items[3].ref_id == hearing.id and items[3].url == f"/timeline/{hearing.id}"


def test_it_filters_by_kind_and_period(session: Session, actor: Actor) -> None:
    account = make_account(session)
    make_contract(session, account, start_date=date(2025, 4, 1))
    trouble = make_entry(session, actor, account, kind="trouble", occurred_at=at("2025-04-05"))
    make_entry(session, actor, account, kind="call", occurred_at=at("2025-04-06"))
    make_entry(session, actor, account, kind="trouble", occurred_at=at("2025-05-05"))
    only = account_stream(session, account.id, kinds=["trouble"], until=at("2025-04-30"))
    assert [i.ref_id for i in only] == [trouble.id]
    both = account_stream(session, account.id, kinds=["call", "contract_movement"])
    assert [i.kind for i in both] == ["call", "contract_movement"]


def test_it_pages_without_losing_or_repeating_items(session: Session, actor: Actor) -> None:
    account = make_account(session)
    same_moment = at("2025-04-01", "09:00")
    made = [make_entry(session, actor, account, occurred_at=same_moment) for _ in range(3)]
    made += [make_entry(session, actor, account, occurred_at=at(f"2025-04-0{d}")) for d in (2, 3)]
    make_contract(session, account, start_date=date(2025, 4, 1))
    seen: list[tuple[str, int | None]] = []
    before = None
    for _ in range(10):
        page = account_stream(session, account.id, before=before, limit=2)
        seen += [(i.kind, i.ref_id) for i in page]
        if len(page) < 2:
            break
        before = stream_cursor(page[-1])
    assert len(seen) == len(set(seen)) == 6
    assert [ref for kind, ref in seen if kind == "hearing"] == [
        made[4].id,
        made[3].id,
        made[2].id,
        made[1].id,
        made[0].id,
    ]
    assert seen[-1][0] == "contract_movement"


def test_it_refuses_bad_stream_requests(session: Session) -> None:
    account = make_account(session)
    with pytest.raises(NotFound):
        account_stream(session, 2_000_000_000)
    with pytest.raises(InvalidInput):
        account_stream(session, account.id, kinds=["gossip"])
    with pytest.raises(InvalidInput):
        account_stream(session, account.id, before="!!broken!!")
    with pytest.raises(InvalidInput):
        account_stream(session, account.id, limit=0)
