from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.observations.models import ObservationSession
from tests.conftest import Person, make_person
from tests.factories import make_account, make_contact
from tests.observations.factories import make_session
from tests.web.conftest import Browse, form_token

GOOD = {"title": "初回取込の観察（再）", "held_at": "2025-06-03T10:00",
        "customer_role": "経理担当（二回目）", "contact_id": "", "observer_id": "",
        "recording_url": "https://video.example.com/r/2"}  # fmt: skip


def save(client: TestClient, observation_id: int, version: int | str = 1, **fields: str) -> Any:
    url = f"/observations/{observation_id}"
    token = form_token(client.get(url).text)
    data = {"csrf_token": token, **GOOD, "version": str(version), **fields}
    return client.post(f"{url}/details", data=data, follow_redirects=False)


def stored(session: Session, observation_id: int) -> ObservationSession:
    session.expire_all()
    found = session.get(ObservationSession, observation_id)
    assert found is not None
    return found


def test_it_shows_writers_the_details_form_with_the_stored_values(
    web_client: Browse, bob: Person, session: Session
) -> None:
    account = make_account(session)
    contact = make_contact(session, account, name="経理 花子")
    make_contact(session, make_account(session, name="他社"), name="他社 次郎")
    observation = make_session(session, bob.actor, account, contact_id=contact.id,
                               observer_id=bob.user.id)  # fmt: skip

    page = web_client(bob).get(f"/observations/{observation.id}").text

    form = page.split(f'action="/observations/{observation.id}/details"', 1)[1]
    form = form.split("</form>", 1)[0]
    assert "Edit the session's details" in page and '<details id="details" ' in page
    assert 'name="csrf_token"' in form and 'name="version" value="1"' in form
    assert 'value="初回CSV取込の観察"' in form and 'value="経理担当（初めて使う）"' in form
    assert 'value="2025-06-02T14:00"' in form  # 05:00 UTC shown in the workspace's time (JST)
    assert f'<option value="{contact.id}" selected>経理 花子</option>' in form
    assert "他社 次郎" not in form  # only this customer's contacts
    assert f'<option value="{bob.user.id}" selected>' in form


def test_it_saves_the_details(
    web_client: Browse, alice: Person, bob: Person, session: Session
) -> None:
    account = make_account(session)
    contact = make_contact(session, account, name="経理 花子")
    observation = make_session(session, alice.actor, account)
    client = web_client(bob)

    answer = save(client, observation.id, contact_id=str(contact.id),
                  observer_id=str(bob.user.id))  # fmt: skip

    assert answer.status_code == 303 and answer.headers["location"] == (
        f"/observations/{observation.id}"
    )
    saved = stored(session, observation.id)
    assert (saved.title, saved.customer_role, saved.contact_id, saved.observer_id) == (
        "初回取込の観察（再）", "経理担当（二回目）", contact.id, bob.user.id,
    )  # fmt: skip
    assert saved.held_at.isoformat() == "2025-06-03T01:00:00+00:00"  # 10:00 JST
    assert saved.recording_url == "https://video.example.com/r/2" and saved.version == 2
    page = client.get(answer.headers["location"]).text
    assert "Session details saved." in page and "初回取込の観察（再）" in page
    assert "Nothing changed." in client.get(
        save(client, observation.id, version=2, contact_id=str(contact.id),
             observer_id=str(bob.user.id)).headers["location"]
    ).text  # fmt: skip
    assert stored(session, observation.id).version == 2


def test_it_refuses_bad_details_with_the_fields_marked(
    web_client: Browse, bob: Person, session: Session
) -> None:
    account = make_account(session)
    observation = make_session(session, bob.actor, account)
    strangers_contact = make_contact(session, make_account(session, name="他社"))
    gone = make_person(session, "gone@example.com", "csm")
    gone.user.is_active = False
    session.flush()
    client = web_client(bob)
    cases = [
        ({"recording_url": "javascript:alert(1)"}, "recording_url", "starting with https://"),
        ({"contact_id": str(strangers_contact.id)}, "contact_id", "one of this customer"),
        ({"contact_id": "999999"}, "contact_id", "one of this customer"),
        ({"observer_id": "999999"}, "observer_id", "Choose one of the users."),
        ({"observer_id": str(gone.user.id)}, "observer_id", "Choose one of the users."),
        ({"held_at": "yesterday"}, "held_at", "when the session was held"),
        ({"held_at": ""}, "held_at", "when the session was held"),
        ({"title": "x" * 301}, "title", "at most 300 characters"),
        ({"customer_role": " "}, "customer_role", "Say who used the product"),
        ({"version": "zero"}, "version", "Reload the page"),
    ]

    for fields, field, message in cases:
        answer = save(client, observation.id, **fields)
        assert answer.status_code == 422, fields
        assert "The details were not saved" in answer.text and message in answer.text, fields
        assert '<details id="details" open' in answer.text
        if field != "version":
            assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', answer.text), field
        if field in ("title", "held_at", "recording_url"):  # what was typed is kept
            assert f'value="{fields[field][:50]}' in answer.text, fields

    saved = stored(session, observation.id)
    assert saved.version == 1 and saved.title == "初回CSV取込の観察"
    assert save(client, 999_999).status_code == 404


def test_it_shows_the_merge_panel_on_a_stale_version(
    web_client: Browse, alice: Person, bob: Person, session: Session
) -> None:
    observation = make_session(session, alice.actor, make_account(session))
    assert save(web_client(alice), observation.id, title="アリスの題名").status_code == 303
    client = web_client(bob)

    stale = save(client, observation.id, version=1, customer_role="経理担当（ボブ版）",
                 recording_url="https://video.example.com/bob")  # fmt: skip

    assert stale.status_code == 409
    details = stale.text.split('<details id="details"', 1)[1].split("</form>", 1)[0]
    assert stale.text.count("Someone else saved this") == 1  # in the details form only
    assert "Someone else saved this" in details and "Last saved by alice." in details
    assert 'name="version" value="2"' in details
    assert 'data-merge-field="title"' in details and 'data-merge-field="customer_role"' in details
    assert 'value="https://video.example.com/bob"' in details  # the other fields as typed
    kpt = stale.text.split(f'action="/observations/{observation.id}/kpt"', 1)[1]
    assert 'name="version" value="2"' in kpt and "data-merge-field" not in kpt
    saved = stored(session, observation.id)
    assert saved.version == 2 and saved.title == "アリスの題名"
    assert saved.recording_url == "https://video.example.com/r/2"  # alice's save, not bob's

    settled = save(client, observation.id, version=2, title="アリスの題名",
                   customer_role="経理担当（ボブ版）")  # fmt: skip
    assert settled.status_code == 303
    assert stored(session, observation.id).customer_role == "経理担当（ボブ版）"


def test_it_forbids_viewers_to_edit_the_details(
    web_client: Browse, bob: Person, charlie: Person, session: Session
) -> None:
    observation = make_session(session, bob.actor, make_account(session))
    viewer = web_client(charlie, follow_redirects=False)
    url = f"/observations/{observation.id}"
    page = viewer.get(url)
    assert page.status_code == 200 and f'action="{url}/details"' not in page.text

    data = {"csrf_token": form_token(page.text), **GOOD, "version": "1"}
    answer = viewer.post(f"{url}/details", data=data)

    assert answer.status_code == 403
    assert stored(session, observation.id).title == "初回CSV取込の観察"
