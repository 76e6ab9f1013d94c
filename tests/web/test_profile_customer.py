"""The customer understanding slot: empty state, the four layers, saving and merging."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.profiles.models import AccountProfile, ContactProfile
from banso.profiles.schemas import AccountProfilePatch
from banso.profiles.service import update_account_profile
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.web.conftest import form_token

Browse = Callable[..., TestClient]
HTMX = {"HX-Request": "true"}


def test_it_invites_to_write_an_empty_profile(
    session: Session, web_client: Browse, bob: Person, charlie: Person
) -> None:
    account = make_account(session)
    slot = web_client(bob).get(f"/customers/{account.id}/profile", headers=HTMX)
    assert slot.status_code == 200 and "<html" not in slot.text
    assert "Nothing is written about this customer yet" in slot.text
    assert 'name="industry_context"' in slot.text
    page = web_client(charlie).get(f"/customers/{account.id}/profile")
    assert page.status_code == 200 and "<html" in page.text
    assert 'name="industry_context"' not in page.text


def test_it_saves_the_layers_and_a_key_persons_profile(
    session: Session, web_client: Browse, bob: Person
) -> None:
    account = make_account(session)
    key = make_contact(session, account, name="田中 課長", is_key_person=True)
    client = web_client(bob)
    token = form_token(client.get(f"/customers/{account.id}/profile").text)
    saved = client.post(
        f"/customers/{account.id}/profile",
        headers=HTMX,
        data={
            "csrf_token": token,
            "version": "0",
            "industry_context": "**建設業**の元請け",
            "business_goals": "現場DX",
            "rhythm": "毎週月曜に工程会議",
            "feelings": "期待と不安",
        },
    )
    assert saved.status_code == 200 and "<strong>建設業</strong>" in saved.text
    person = client.post(
        f"/customers/{account.id}/profile/contacts/{key.id}",
        headers=HTMX,
        data={
            "csrf_token": token,
            "version": "0",
            "it_literacy": "4",
            "strengths": "社内調整力",
            "motivation": "",
            "notes": "",
        },
    )
    assert person.status_code == 200 and "社内調整力" in person.text
    contact_profile = session.get(ContactProfile, key.id)
    assert contact_profile is not None and contact_profile.it_literacy == 4


def test_it_offers_a_merge_and_refuses_bad_input(
    session: Session, web_client: Browse, alice: Person, bob: Person
) -> None:
    account = make_account(session)
    key = make_contact(session, account, is_key_person=True)
    client = web_client(bob)
    token = form_token(client.get(f"/customers/{account.id}/profile").text)
    update_account_profile(
        session, alice.actor, account.id, AccountProfilePatch(version=0, feelings="満足")
    )
    session.commit()
    clash = client.post(
        f"/customers/{account.id}/profile",
        data={"csrf_token": token, "version": "0", "feelings": "不満が溜まっている"},
    )
    assert clash.status_code == 409
    assert "満足" in clash.text and "不満が溜まっている" in clash.text
    assert clash.text.count('name="feelings"') == 1
    profile = session.get(AccountProfile, account.id)
    assert profile is not None and profile.feelings == "満足"
    url = f"/customers/{account.id}/profile/contacts/{key.id}"
    for bad in ({"it_literacy": "9"}, {"it_literacy": "x"}, {"notes": "\x00"}):
        answer = client.post(url, data={"csrf_token": token, "version": "0"} | bad)
        assert answer.status_code == 422, bad
    assert session.get(ContactProfile, key.id) is None
    stranger = make_contact(session, make_account(session, name="他社"))
    answer = client.post(
        f"/customers/{account.id}/profile/contacts/{stranger.id}",
        data={"csrf_token": token, "version": "0"},
    )
    assert answer.status_code == 404
    assert client.get("/customers/2000000000/profile").status_code == 404


def test_it_refuses_a_viewer(session: Session, web_client: Browse, charlie: Person) -> None:
    account = make_account(session)
    key = make_contact(session, account, is_key_person=True)
    viewer = web_client(charlie)
    token = form_token(viewer.get("/customers").text)
    data = {"csrf_token": token, "version": "0", "feelings": "x"}
    assert viewer.post(f"/customers/{account.id}/profile", data=data).status_code == 403
    answer = viewer.post(f"/customers/{account.id}/profile/contacts/{key.id}", data=data)
    assert answer.status_code == 403
    assert session.get(AccountProfile, account.id) is None
