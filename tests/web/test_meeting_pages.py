"""The meeting pages: the list, a new meeting, the living document, one document per customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from banso.meetings import service
from banso.meetings.models import Meeting
from banso.meetings.schemas import ItemPatch
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting
from tests.web.conftest import Browse, form_token


def test_it_creates_a_meeting_from_the_form(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account = make_account(session, name="株式会社ミライ")
    client = web_client(bob)
    form = client.get(f"/meetings/new?account_id={account.id}")
    assert form.status_code == 200 and "株式会社ミライ" in form.text
    answer = client.post(
        "/meetings",
        data={
            "csrf_token": form_token(form.text),
            "account_id": account.id,
            "title": "定例会議",
            "day": "2025-07-01",
            "at": "14:30",
            "location": "オンライン",
            "purpose": "更新の確認",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    meeting = session.query(Meeting).filter_by(account_id=account.id).one()
    assert answer.headers["location"] == f"/meetings/{meeting.id}"
    assert meeting.scheduled_at == datetime(2025, 7, 1, 5, 30, tzinfo=UTC)  # 14:30 JST
    page = client.get(answer.headers["location"])
    assert "定例会議" in page.text and "オンライン" in page.text


def test_it_shows_the_form_again_with_what_was_wrong(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account = make_account(session)
    client = web_client(bob)
    token = form_token(client.get(f"/meetings/new?account_id={account.id}").text)
    answer = client.post(
        "/meetings",
        data={
            "csrf_token": token,
            "account_id": account.id,
            "title": "",
            "day": "2025-02-30",
            "at": "",
            "purpose": "書きかけ",
        },
    )
    assert answer.status_code == 422
    assert "Enter the date as YYYY-MM-DD." in answer.text
    assert "書きかけ" in answer.text
    answer = client.post(
        "/meetings",
        data={
            "csrf_token": token,
            "account_id": account.id,
            "title": "",
            "day": "2025-07-01",
            "at": "25:00",
        },
    )
    assert answer.status_code == 422 and "Enter the time as HH:MM." in answer.text
    answer = client.post(
        "/meetings",
        data={
            "csrf_token": token,
            "account_id": account.id,
            "title": "",
            "day": "2025-07-01",
        },
    )
    assert answer.status_code == 422 and "Give a title" in answer.text
    assert session.query(Meeting).count() == 0


def test_it_answers_not_found_for_unknown_ids(
    session: Session, web_client: Browse, bob: Person
) -> None:
    client = web_client(bob)
    assert client.get("/meetings/999999").status_code == 404
    assert client.get("/meetings/new?account_id=999999").status_code == 404
    assert client.get("/customers/999999/meetings").status_code == 404
    assert client.get("/meetings/99999999999").status_code == 404


def test_it_lists_upcoming_and_recent_meetings_mine_or_all(
    session: Session, web_client: Browse, alice: Person, bob: Person
) -> None:
    account = make_account(session, name="株式会社リスト")
    now = datetime.now(UTC)
    make_meeting(session, bob.actor, account, title="来週の定例", scheduled_at=now + timedelta(7))
    make_meeting(session, bob.actor, account, title="先月の定例", scheduled_at=now - timedelta(30))
    make_meeting(
        session, alice.actor, account, title="アリスの会議", scheduled_at=now + timedelta(3)
    )
    client = web_client(bob)
    upcoming = client.get("/meetings").text
    assert "来週の定例" in upcoming and "先月の定例" not in upcoming
    assert "アリスの会議" not in upcoming
    assert "先月の定例" in client.get("/meetings?when=recent").text
    assert "アリスの会議" in client.get("/meetings?scope=all").text
    assert client.get("/meetings?cursor=garbage").status_code == 422


def test_it_pages_a_long_list(session: Session, web_client: Browse, bob: Person) -> None:
    account = make_account(session)
    start = datetime.now(UTC) + timedelta(days=1)
    for n in range(23):
        make_meeting(
            session,
            bob.actor,
            account,
            title=f"会議{n:02d}",
            scheduled_at=start + timedelta(days=n),
        )
    client = web_client(bob)
    first = client.get("/meetings").text
    assert "会議00" in first and "会議22" not in first
    cursor = first.split("cursor=", 1)[1].split('"', 1)[0]
    second = client.get(f"/meetings?cursor={cursor}".replace("&amp;", "&")).text
    assert "会議22" in second and "会議00" not in second


def test_it_shows_every_meeting_of_a_customer_newest_first_and_searches_them(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account = make_account(session, name="株式会社ドキュメント")
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
    item = make_item(session, bob.actor, old, topic="導入計画", hypothesis="**三か月**で定着")
    service.update_item(
        session, bob.actor, old.id, item.id, ItemPatch(version=1, decision="解約の話は出なかった")
    )
    other = make_meeting(session, bob.actor, make_account(session, name="他社"), title="他社会議")
    make_item(session, bob.actor, other, topic="解約の相談")
    client = web_client(bob)
    page = client.get(f"/customers/{account.id}/meetings").text
    assert page.index("定例") < page.index("キックオフ")
    assert "<strong>三か月</strong>" in page
    found = client.get(f"/customers/{account.id}/meetings", params={"q": "解約"}).text
    assert f'href="/meetings/{old.id}"' in found
    assert "他社会議" not in found
    assert new.id != old.id
