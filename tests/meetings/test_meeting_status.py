from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.documents.service import EditConflict
from banso.errors import Conflict, InvalidInput
from banso.meetings import service
from banso.meetings.schemas import MeetingPatch
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_meeting


def test_it_moves_a_meeting_from_planned_to_held_to_closed(session: Session, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    service.set_status(session, bob.actor, meeting.id, "held", meeting.version)
    assert meeting.status == "held" and meeting.held_at is not None
    service.set_status(session, bob.actor, meeting.id, "closed", meeting.version)
    assert meeting.status == "closed" and meeting.closed_at is not None
    service.set_status(session, bob.actor, meeting.id, "held", meeting.version)  # reopened
    assert meeting.closed_at is None


def test_it_refuses_a_jump_and_a_stale_version(session: Session, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    with pytest.raises(InvalidInput) as caught:
        service.set_status(session, bob.actor, meeting.id, "closed", meeting.version)
    assert "planned" in str(caught.value)
    with pytest.raises(InvalidInput):
        service.set_status(session, bob.actor, meeting.id, "done", meeting.version)
    with pytest.raises(Conflict):
        service.set_status(session, bob.actor, meeting.id, "held", meeting.version + 1)


def test_it_cancels_and_replans(session: Session, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    service.set_status(session, bob.actor, meeting.id, "cancelled", meeting.version)
    service.set_status(session, bob.actor, meeting.id, "planned", meeting.version)
    assert meeting.status == "planned"


def test_it_saves_the_summary_and_merges_a_concurrent_one(
    session: Session, alice: Person, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    service.update_meeting(
        session, alice.actor, meeting.id, MeetingPatch(version=1, summary="次回は7月\n")
    )
    with pytest.raises(EditConflict) as caught:
        service.update_meeting(
            session, bob.actor, meeting.id, MeetingPatch(version=1, summary="議事録は山田が送付\n")
        )
    assert caught.value.fields[0].name == "summary"
    assert not caught.value.fields[0].clean
    with pytest.raises(InvalidInput):
        service.update_meeting(session, bob.actor, meeting.id, MeetingPatch(version=2, title=None))
    assert meeting.summary == "次回は7月\n"
