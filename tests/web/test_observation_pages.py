from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.observations.models import ObservationMoment, ObservationSession
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.observations.factories import make_moment, make_session
from tests.web.conftest import Browse, form_token


def post(client: TestClient, url: str, page: str, **data: Any) -> Any:
    token = form_token(client.get(page).text)
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)


def new_session(client: TestClient, account_id: int, **fields: str) -> Any:
    data = {"account_id": str(account_id), "title": "初回取込の観察", "held_at": "2025-06-02T14:30",
            "customer_role": "経理担当（初めて使う）", "recording_url": "https://video.example.com/r/1",
            **fields}  # fmt: skip
    return post(client, "/observations", f"/observations/new?account_id={account_id}", **data)


def test_it_creates_a_session_from_the_form(
    web_client: Browse, bob: Person, session: Session
) -> None:
    account = make_account(session, name="観察商事")
    contact = make_contact(session, account, name="経理 花子")
    client = web_client(bob)
    form = client.get(f"/observations/new?account_id={account.id}").text
    assert "観察商事" in form and "経理 花子" in form

    answer = new_session(
        client, account.id, contact_id=str(contact.id), observer_id=str(bob.user.id)
    )

    assert answer.status_code == 303
    observation = session.scalar(select(ObservationSession))
    assert observation is not None and observation.contact_id == contact.id
    assert observation.held_at.isoformat() == "2025-06-02T05:30:00+00:00"  # 14:30 JST
    page = client.get(answer.headers["location"]).text
    assert "経理担当（初めて使う）" in page and "経理 花子" in page
    assert account.name in client.get(f"/observations?account_id={account.id}").text


def test_it_refuses_a_bad_session(web_client: Browse, bob: Person, session: Session) -> None:
    account = make_account(session)
    other_contact = make_contact(session, make_account(session, name="他社"))
    client = web_client(bob)

    script = new_session(client, account.id, recording_url="javascript:alert(1)")
    assert script.status_code == 422 and "starting with https://" in script.text
    assert new_session(client, 999_999).status_code == 422
    assert new_session(client, account.id, contact_id=str(other_contact.id)).status_code == 422
    assert new_session(client, account.id, observer_id="999999").status_code == 422
    assert new_session(client, account.id, held_at="yesterday").status_code == 422
    assert new_session(client, account.id, title="x" * 301).status_code == 422
    assert new_session(client, account.id, customer_role="").status_code == 422
    assert session.scalar(select(ObservationSession)) is None


def test_it_adds_a_moment_in_place_and_keeps_the_step(
    web_client: Browse, bob: Person, session: Session
) -> None:
    observation = make_session(session, bob.actor, make_account(session))
    client = web_client(bob)
    url = f"/observations/{observation.id}"
    token = form_token(client.get(url).text)

    answer = client.post(
        f"{url}/moments",
        data={
            "csrf_token": token,
            "kind": "confusion",
            "step": "初期設定 > CSV取込",
            "note": "どのボタンか迷った",
            "severity": "2",
            "at_seconds": "1:35",
        },
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert 'id="moment-form"' in answer.text and 'hx-swap-oob="true"' in answer.text
    assert 'value="初期設定 &gt; CSV取込"' in answer.text  # the step stays for the next moment
    assert "どのボタンか迷った" in answer.text.split('id="moments"', 1)[1]  # in the list
    assert 'href="https://video.example.com/rec/1#t=95"' in answer.text


def test_it_adds_a_moment_without_javascript(
    web_client: Browse, bob: Person, session: Session
) -> None:
    observation = make_session(session, bob.actor, make_account(session))
    client = web_client(bob)
    url = f"/observations/{observation.id}"

    answer = post(client, f"{url}/moments", url, kind="idea", step="請求", note="一括発行したい")

    assert answer.status_code == 303 and answer.headers["location"].endswith("#moments")
    assert "一括発行したい" in client.get(url).text


def test_it_refuses_a_bad_moment(web_client: Browse, bob: Person, session: Session) -> None:
    observation = make_session(session, bob.actor, make_account(session))
    client = web_client(bob)
    url = f"/observations/{observation.id}"
    good = {"kind": "irritation", "step": "請求", "severity": "1"}

    for bad in ({"kind": "anger"}, {"severity": "5"}, {"step": ""}, {"note": "x" * 10_001},
                {"at_seconds": "abc"}, {"recording_url": "javascript:alert(1)"}):  # fmt: skip
        answer = post(client, f"{url}/moments", url, **{**good, **bad})
        assert answer.status_code == 422, bad
        assert "The moment was not recorded" in answer.text
    assert post(client, "/observations/999999/moments", url, **good).status_code == 404
    assert session.scalar(select(ObservationMoment)) is None


def test_it_deletes_a_moment(web_client: Browse, bob: Person, session: Session) -> None:
    observation = make_session(session, bob.actor, make_account(session))
    moment = make_moment(session, bob.actor, observation, note="消す予定")
    client = web_client(bob)
    url = f"/observations/{observation.id}"
    assert "data-confirm=" in client.get(url).text

    assert post(client, f"{url}/moments/{moment.id}/delete", url).status_code == 303
    assert "消す予定" not in client.get(url).text
    assert post(client, f"{url}/moments/{moment.id}/delete", url).status_code == 404


def test_it_saves_the_kpt_and_offers_a_merge(
    web_client: Browse, alice: Person, bob: Person, session: Session
) -> None:
    observation = make_session(session, alice.actor, make_account(session))
    client = web_client(bob)
    url = f"/observations/{observation.id}"

    first = post(client, f"{url}/kpt", url, keep="説明が早い", problem="", try_next="", version="1")
    assert first.status_code == 303
    stale = post(client, f"{url}/kpt", url, keep="", problem="", try_next="動画で案内", version="1")
    assert stale.status_code == 409
    assert "Someone else saved this" in stale.text and 'name="version" value="2"' in stale.text
    assert post(client, f"{url}/kpt", url, keep="x" * 100_001, version="2").status_code == 422
    assert post(client, f"{url}/kpt", url, keep="a", version="zero").status_code == 422


def test_it_lets_viewers_read_but_not_write(
    web_client: Browse, charlie: Person, bob: Person, session: Session
) -> None:
    account = make_account(session)
    observation = make_session(session, bob.actor, account)
    moment = make_moment(session, bob.actor, observation)
    viewer = web_client(charlie, follow_redirects=False)
    url = f"/observations/{observation.id}"
    page = viewer.get(url)
    assert page.status_code == 200 and 'id="moment-form"' not in page.text
    assert viewer.get(f"/observations/new?account_id={account.id}").status_code == 303
    token = form_token(page.text)
    for target in ("/observations", f"{url}/kpt", f"{url}/moments",
                   f"{url}/moments/{moment.id}/delete"):  # fmt: skip
        assert viewer.post(target, data={"csrf_token": token}).status_code == 403, target
