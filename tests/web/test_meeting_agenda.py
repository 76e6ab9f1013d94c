"""Writing the agenda and the notes on the meeting page, with and without HTMX."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.meetings import service
from banso.meetings.schemas import ItemPatch
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting
from tests.web.conftest import Browse, form_token


def test_it_adds_an_item_and_saves_notes_with_a_plain_post(
    session: Session, web_client: Browse, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    client = web_client(bob, follow_redirects=False)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    answer = client.post(
        f"/meetings/{meeting.id}/items",
        data={
            "csrf_token": token,
            "topic": "活用の課題",
            "hypothesis": "管理者が多忙で設定が進まない",
        },
    )
    assert answer.status_code == 303
    item = service.items_of(session, meeting.id)[0]
    assert answer.headers["location"] == f"/meetings/{meeting.id}#item-{item.id}"
    answer = client.post(
        f"/meetings/{meeting.id}/items/{item.id}",
        data={
            "csrf_token": token,
            "version": 1,
            "part": "during",
            "customer_view": "来月から専任を置く",
            "decision": "設定代行を提案",
        },
    )
    assert answer.status_code == 303
    session.refresh(item)
    assert (item.customer_view, item.decision, item.hypothesis) == (
        "来月から専任を置く",
        "設定代行を提案",
        "管理者が多忙で設定が進まない",
    )


def test_it_swaps_only_the_item_card_for_htmx(
    session: Session, web_client: Browse, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting)
    client = web_client(bob)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    answer = client.post(
        f"/meetings/{meeting.id}/items/{item.id}",
        headers={"HX-Request": "true"},
        data={
            "csrf_token": token,
            "version": 1,
            "part": "before",
            "topic": "利用状況の確認",
            "hypothesis": "新しい仮説",
        },
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith("{#") is False
    assert f'id="item-{item.id}"' in answer.text and "<html" not in answer.text
    assert "新しい仮説" in answer.text and 'name="version" value="2"' in answer.text


def test_it_shows_the_merge_to_the_second_writer_who_can_save_it(
    session: Session, web_client: Browse, alice: Person, bob: Person
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
    service.update_item(
        session,
        alice.actor,
        meeting.id,
        item.id,
        ItemPatch(version=2, customer_view="一行目(山田様)\n二行目\n"),
    )
    client = web_client(bob)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    answer = client.post(
        f"/meetings/{meeting.id}/items/{item.id}",
        data={
            "csrf_token": token,
            "version": 2,
            "part": "during",
            "customer_view": "一行目\n二行目\n三行目\n",
            "decision": "",
        },
    )
    assert answer.status_code == 409
    assert "Someone else saved this after you opened it." in answer.text
    assert "一行目(山田様)\n二行目\n三行目" in answer.text
    assert 'name="version" value="3"' in answer.text
    saved = client.post(
        f"/meetings/{meeting.id}/items/{item.id}",
        data={
            "csrf_token": token,
            "version": 3,
            "part": "during",
            "customer_view": "一行目(山田様)\n二行目\n三行目\n",
            "decision": "",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.refresh(item)
    assert item.customer_view == "一行目(山田様)\n二行目\n三行目\n"


def test_it_reorders_and_removes_items(session: Session, web_client: Browse, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    first = make_item(session, bob.actor, meeting, topic="一")
    second = make_item(session, bob.actor, meeting, topic="二")
    client = web_client(bob, follow_redirects=False)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    moved = client.post(
        f"/meetings/{meeting.id}/items/{second.id}/move",
        data={"csrf_token": token, "direction": "up"},
    )
    assert moved.status_code == 303
    assert [i.topic for i in service.items_of(session, meeting.id)] == ["二", "一"]
    bad = client.post(
        f"/meetings/{meeting.id}/items/{second.id}/move",
        data={"csrf_token": token, "direction": "left"},
    )
    assert bad.status_code == 422
    stale = client.post(
        f"/meetings/{meeting.id}/items/{first.id}/delete", data={"csrf_token": token, "version": 5}
    )
    assert stale.status_code == 409
    gone = client.post(
        f"/meetings/{meeting.id}/items/{first.id}/delete", data={"csrf_token": token, "version": 1}
    )
    assert gone.status_code == 303
    assert [i.topic for i in service.items_of(session, meeting.id)] == ["二"]


def test_it_refuses_bad_input_on_items(session: Session, web_client: Browse, bob: Person) -> None:
    account = make_account(session)
    meeting = make_meeting(session, bob.actor, account)
    other = make_meeting(session, bob.actor, account)
    foreign = make_item(session, bob.actor, other)
    client = web_client(bob)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    empty = client.post(f"/meetings/{meeting.id}/items", data={"csrf_token": token, "topic": " "})
    assert empty.status_code == 422 and "Name the agenda item" in empty.text
    huge = client.post(
        f"/meetings/{meeting.id}/items",
        data={"csrf_token": token, "topic": "長文", "hypothesis": "あ" * 20_001},
    )
    assert huge.status_code == 422 and "Too long" in huge.text
    wrong = client.post(
        f"/meetings/{meeting.id}/items/{foreign.id}",
        data={"csrf_token": token, "version": 1, "part": "during"},
    )
    assert wrong.status_code == 404
    missing = client.post("/meetings/999999/items", data={"csrf_token": token, "topic": "x"})
    assert missing.status_code == 404
    no_part = client.post(
        f"/meetings/{meeting.id}/items/{foreign.id}",
        data={"csrf_token": token, "version": 1, "part": "after"},
    )
    assert no_part.status_code == 422
    no_version = client.post(f"/meetings/{meeting.id}", data={"csrf_token": token, "summary": "x"})
    assert no_version.status_code == 422


def test_it_edits_the_details_and_the_summary_and_moves_the_status(
    session: Session, web_client: Browse, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    client = web_client(bob, follow_redirects=False)
    token = form_token(client.get(f"/meetings/{meeting.id}").text)
    answer = client.post(
        f"/meetings/{meeting.id}",
        data={
            "csrf_token": token,
            "version": 1,
            "part": "details",
            "title": "定例(改)",
            "day": "2025-08-01",
            "at": "09:00",
            "location": "本社",
            "attendees": "山田様",
            "purpose": "確認",
        },
    )
    assert answer.status_code == 303
    session.refresh(meeting)
    assert meeting.title == "定例(改)" and meeting.scheduled_at.hour == 0  # 09:00 JST
    bad = client.post(
        f"/meetings/{meeting.id}",
        data={
            "csrf_token": token,
            "version": meeting.version,
            "part": "details",
            "title": "x",
            "day": "",
        },
    )
    assert bad.status_code == 422
    held = client.post(
        f"/meetings/{meeting.id}/status",
        data={"csrf_token": token, "status": "held", "version": meeting.version},
    )
    assert held.status_code == 303
    session.refresh(meeting)
    summary = client.post(
        f"/meetings/{meeting.id}",
        data={
            "csrf_token": token,
            "version": meeting.version,
            "part": "summary",
            "summary": "次回は9月",
        },
    )
    assert summary.status_code == 303
    session.refresh(meeting)
    closed = client.post(
        f"/meetings/{meeting.id}/status",
        data={"csrf_token": token, "status": "closed", "version": meeting.version},
    )
    assert closed.status_code == 303
    session.refresh(meeting)
    assert (meeting.status, meeting.summary) == ("closed", "次回は9月")
    jump = client.post(
        f"/meetings/{meeting.id}/status",
        data={"csrf_token": token, "status": "cancelled", "version": meeting.version},
    )
    assert jump.status_code == 422


def test_it_lets_a_viewer_read_but_not_write(
    session: Session, web_client: Browse, bob: Person, charlie: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    item = make_item(session, bob.actor, meeting, hypothesis="**太字**の仮説")
    client = web_client(charlie)
    page = client.get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert "<strong>太字</strong>" in page.text and 'name="hypothesis"' not in page.text
    token = form_token(page.text)
    answer = client.post(
        f"/meetings/{meeting.id}/items/{item.id}",
        data={"csrf_token": token, "version": 1, "part": "during"},
    )
    assert answer.status_code == 403
    new = client.get(f"/meetings/new?account_id={meeting.account_id}", follow_redirects=False)
    assert new.status_code == 303


def test_it_refuses_a_post_without_the_form_token(
    session: Session, web_client: Browse, bob: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session))
    client = web_client(bob)
    answer = client.post(f"/meetings/{meeting.id}/items", data={"topic": "x"})
    assert answer.status_code == 403
    assert service.items_of(session, meeting.id) == []
