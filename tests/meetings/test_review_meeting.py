from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from banso.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from banso.meetings import service
from banso.meetings.schemas import CommentIn, DecisionIn, ReviewRequestIn, parse
from tests.conftest import Person, make_person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting

TODAY = date(2025, 6, 1)


def _ask(session: Session, asker: Person, meeting_id: int, reviewer: Person, **fields: object):
    data = ReviewRequestIn(reviewer_id=reviewer.user.id, **fields)  # type: ignore[arg-type]
    return service.request_review(session, asker.actor, meeting_id, data, TODAY)


def test_it_asks_a_colleague_who_approves(session: Session, alice: Person, bob: Person) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    review = _ask(
        session, alice, meeting.id, bob, message="仮説を見てください", due_date=date(2025, 6, 5)
    )
    assert review.status == "requested"
    assert service.review_state(service.reviews_of(session, meeting.id)) == "requested"
    service.decide_review(
        session,
        bob.actor,
        meeting.id,
        review.id,
        DecisionIn(decision="approved", comment="良いと思います"),
    )
    assert review.status == "approved" and review.decided_at is not None
    assert service.review_state(service.reviews_of(session, meeting.id)) == "approved"
    comments = service.comments_of(session, meeting.id)
    assert [(c.body, c.review_id) for c in comments] == [("良いと思います", review.id)]


def test_it_asks_again_after_changes_were_requested(
    session: Session, alice: Person, bob: Person
) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    first = _ask(session, alice, meeting.id, bob)
    service.decide_review(
        session, bob.actor, meeting.id, first.id, DecisionIn(decision="changes_requested")
    )
    assert service.review_state(service.reviews_of(session, meeting.id)) == "changes_requested"
    second = _ask(session, alice, meeting.id, bob)
    assert second.id != first.id
    assert service.review_state(service.reviews_of(session, meeting.id)) == "requested"
    with pytest.raises(Conflict):
        service.decide_review(
            session, bob.actor, meeting.id, first.id, DecisionIn(decision="approved")
        )


def test_it_refuses_reviewers_who_cannot_review(
    session: Session, alice: Person, bob: Person, charlie: Person
) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    for reviewer_id, words in (
        (alice.user.id, "your own"),
        (charlie.user.id, "viewer"),
        (999_999, "does not exist"),
    ):
        with pytest.raises(InvalidInput) as caught:
            service.request_review(
                session, alice.actor, meeting.id, ReviewRequestIn(reviewer_id=reviewer_id), TODAY
            )
        assert caught.value.errors[0].field == "reviewer_id"
        assert words in str(caught.value)
    gone = make_person(session, "dave@example.com", "csm")
    gone.user.is_active = False
    with pytest.raises(InvalidInput):
        _ask(session, alice, meeting.id, gone)


def test_it_refuses_a_second_open_request_and_a_past_due_date(
    session: Session, alice: Person, bob: Person
) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    _ask(session, alice, meeting.id, bob)
    with pytest.raises(InvalidInput) as caught:
        _ask(session, alice, meeting.id, bob)
    assert "already asked" in str(caught.value)
    other = make_meeting(session, alice.actor, make_account(session, name="別会社"))
    with pytest.raises(InvalidInput) as caught:
        _ask(session, alice, other.id, bob, due_date=date(2025, 5, 1))
    assert caught.value.errors[0].field == "due_date"
    with pytest.raises(InvalidInput):
        parse(ReviewRequestIn, {"reviewer_id": bob.user.id, "due_date": "来週"})


def test_it_lets_only_the_reviewer_decide(session: Session, alice: Person, bob: Person) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    review = _ask(session, alice, meeting.id, bob)
    with pytest.raises(PermissionDenied):
        service.decide_review(
            session, alice.actor, meeting.id, review.id, DecisionIn(decision="approved")
        )
    with pytest.raises(NotFound):
        service.decide_review(
            session, bob.actor, meeting.id, 999_999, DecisionIn(decision="approved")
        )
    with pytest.raises(InvalidInput):
        parse(DecisionIn, {"decision": "maybe"})


def test_it_lists_reviews_due_to_me_open_first_by_due_date(
    session: Session, alice: Person, bob: Person
) -> None:
    account = make_account(session)
    late = make_meeting(session, alice.actor, account, title="後の会議")
    soon = make_meeting(session, alice.actor, account, title="先の会議")
    done = make_meeting(session, alice.actor, account, title="済んだ会議")
    _ask(session, alice, late.id, bob, due_date=date(2025, 6, 20))
    _ask(session, alice, soon.id, bob, due_date=date(2025, 6, 3))
    finished = _ask(session, alice, done.id, bob, due_date=date(2025, 6, 2))
    service.decide_review(session, bob.actor, done.id, finished.id, DecisionIn(decision="approved"))
    lists = service.review_lists(session, bob.user.id)
    assert [r.meeting.title for r in lists.due_to_me] == ["先の会議", "後の会議", "済んだ会議"]
    assert lists.my_requests == []
    mine = service.review_lists(session, alice.user.id)
    assert len(mine.my_requests) == 3
    assert service.open_reviews_due_to(session, bob.user.id) == 2


def test_it_withdraws_a_request(session: Session, alice: Person, bob: Person) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    review = _ask(session, alice, meeting.id, bob)
    with pytest.raises(PermissionDenied):
        service.withdraw_review(session, bob.actor, meeting.id, review.id)
    service.withdraw_review(session, alice.actor, meeting.id, review.id)
    assert review.status == "withdrawn"
    assert service.review_state(service.reviews_of(session, meeting.id)) is None


def test_it_takes_comments_on_the_agenda_and_on_one_item(
    session: Session, alice: Person, bob: Person
) -> None:
    account = make_account(session)
    meeting = make_meeting(session, alice.actor, account)
    item = make_item(session, alice.actor, meeting)
    review = _ask(session, alice, meeting.id, bob)
    on_item = service.add_comment(
        session, bob.actor, meeting.id, CommentIn(body="根拠の数字を足しては?", item_id=item.id)
    )
    general = service.add_comment(session, alice.actor, meeting.id, CommentIn(body="了解です"))
    assert on_item.review_id == review.id and on_item.item_id == item.id
    assert general.review_id is None and general.item_id is None
    other = make_meeting(session, alice.actor, account)
    foreign = make_item(session, alice.actor, other)
    with pytest.raises(NotFound):
        service.add_comment(session, bob.actor, meeting.id, CommentIn(body="x", item_id=foreign.id))
    with pytest.raises(InvalidInput):
        parse(CommentIn, {"body": "   "})
    with pytest.raises(InvalidInput):
        parse(CommentIn, {"body": "長" * 20_001})


def test_it_refuses_a_review_of_a_closed_meeting(
    session: Session, alice: Person, bob: Person
) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    service.set_status(session, alice.actor, meeting.id, "cancelled", meeting.version)
    with pytest.raises(InvalidInput) as caught:
        _ask(session, alice, meeting.id, bob)
    assert caught.value.errors[0].field == "meeting"
