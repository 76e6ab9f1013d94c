"""Asking for a review on the meeting page, the reviewer's list, comments and the decision."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.meetings import service
from banso.meetings.models import MeetingReview
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting
from tests.web.conftest import Browse, form_token


def test_it_runs_a_review_from_request_to_approval(
    session: Session, web_client: Browse, alice: Person, bob: Person
) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session), title="更新前の定例")
    item = make_item(session, alice.actor, meeting)
    asker = web_client(alice, follow_redirects=False)
    token = form_token(asker.get(f"/meetings/{meeting.id}").text)
    answer = asker.post(
        f"/meetings/{meeting.id}/reviews",
        data={
            "csrf_token": token,
            "reviewer_id": bob.user.id,
            "message": "仮説の確認をお願いします",
            "due_date": "2099-01-31",
        },
    )
    assert answer.status_code == 303
    reviewer = web_client(bob, follow_redirects=False)
    due = reviewer.get("/meetings/reviews").text
    assert "更新前の定例" in due and "仮説の確認をお願いします" in due
    assert "Waiting for review" in due
    page = reviewer.get(f"/meetings/{meeting.id}").text
    assert "You were asked to review this agenda" in page
    token = form_token(page)
    comment = reviewer.post(
        f"/meetings/{meeting.id}/comments",
        data={"csrf_token": token, "item_id": item.id, "body": "**数字**を添えて"},
    )
    assert comment.status_code == 303
    review = session.query(MeetingReview).one()
    decided = reviewer.post(
        f"/meetings/{meeting.id}/reviews/{review.id}/decision",
        data={"csrf_token": token, "decision": "approved", "comment": "OKです"},
    )
    assert decided.status_code == 303
    shown = asker.get(f"/meetings/{meeting.id}").text
    assert "Review: Approved" in " ".join(shown.split())
    assert "<strong>数字</strong>を添えて" in shown and "OKです" in shown
    mine = asker.get("/meetings/reviews").text
    assert "Reviews I asked for" in mine and "Approved" in mine


def test_it_refuses_bad_review_requests(
    session: Session, web_client: Browse, alice: Person, bob: Person, charlie: Person
) -> None:
    meeting = make_meeting(session, alice.actor, make_account(session))
    client = web_client(alice)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    for reviewer_id, due in (
        (alice.user.id, ""),
        (charlie.user.id, ""),
        ("999999", ""),
        ("abc", ""),
        (bob.user.id, "2000-01-01"),
        (bob.user.id, "明日"),
    ):
        answer = client.post(
            f"/meetings/{meeting.id}/reviews",
            data={"csrf_token": token, "reviewer_id": reviewer_id, "due_date": due},
        )
        assert answer.status_code == 422, (reviewer_id, due)
    assert service.reviews_of(session, meeting.id) == []


def test_it_lets_only_the_reviewer_decide_and_the_asker_withdraw(
    session: Session, web_client: Browse, alice: Person, bob: Person
) -> None:
    from datetime import date

    from banso.meetings.schemas import ReviewRequestIn

    meeting = make_meeting(session, alice.actor, make_account(session))
    review = service.request_review(
        session, alice.actor, meeting.id, ReviewRequestIn(reviewer_id=bob.user.id), date.today()
    )
    asker = web_client(alice, follow_redirects=False)
    token = form_token(asker.get(f"/meetings/{meeting.id}").text)
    refused = asker.post(
        f"/meetings/{meeting.id}/reviews/{review.id}/decision",
        data={"csrf_token": token, "decision": "approved"},
    )
    assert refused.status_code == 403
    reviewer = web_client(bob, follow_redirects=False)
    rtoken = form_token(reviewer.get(f"/meetings/{meeting.id}").text)
    bad = reviewer.post(
        f"/meetings/{meeting.id}/reviews/{review.id}/decision",
        data={"csrf_token": rtoken, "decision": "maybe"},
    )
    assert bad.status_code == 422
    withdrawn = asker.post(
        f"/meetings/{meeting.id}/reviews/{review.id}/withdraw", data={"csrf_token": token}
    )
    assert withdrawn.status_code == 303
    late = reviewer.post(
        f"/meetings/{meeting.id}/reviews/{review.id}/decision",
        data={"csrf_token": rtoken, "decision": "approved"},
    )
    assert late.status_code == 409
    empty = reviewer.post(
        f"/meetings/{meeting.id}/comments", data={"csrf_token": rtoken, "body": " "}
    )
    assert empty.status_code == 422
