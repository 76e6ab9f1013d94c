"""Contacts through the API and the service: CRUD, filters, locking, deletes, audit, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts.schemas import ContactPatch
from banso.accounts.service import (
    ContactFilter,
    delete_contact,
    get_contact,
    list_contacts,
    update_contact,
)
from banso.audit.service import history
from banso.errors import ConfirmationRequired, Conflict, InvalidInput, NotFound
from tests.accounts.test_account_api import HOSTILE
from tests.conftest import Person
from tests.factories import make_account, make_contact

CONTACTS = "/api/v1/contacts"


def test_it_creates_reads_lists_updates_and_deletes_a_contact(
    client: TestClient, session: Session, bob: Person
) -> None:
    account = make_account(session)
    body = {
        "account_id": account.id,
        "name": "山田 太郎",
        "name_kana": "ヤマダ タロウ",
        "email": "Taro.Yamada@Example.co.jp",
        "phone": "03-1234-5678",
        "title": "情報システム部 部長",
        "role": "decision_maker",
        "is_key_person": True,
        "external_ids": {"hubspot": "c-1"},
    }
    created = client.post(CONTACTS, json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["email"] == "Taro.Yamada@example.co.jp"
    url = f"{CONTACTS}/{contact['id']}"
    assert client.get(url, headers=bob.headers).json() == contact
    listed = client.get(CONTACTS, params={"account_id": account.id}, headers=bob.headers).json()
    assert [c["id"] for c in listed["items"]] == [contact["id"]]
    changed = client.patch(url, json={"version": 1, "role": "user"}, headers=bob.headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["version"]) == ("user", 2)
    assert client.delete(f"{url}?confirm=true", headers=bob.headers).status_code == 204
    assert client.get(url, headers=bob.headers).status_code == 404


def test_it_filters_contacts(session: Session, bob: Person) -> None:
    a = make_account(session, name="A社")
    b = make_account(session, name="B社")
    taro = make_contact(
        session,
        a,
        name="山田 太郎",
        email="taro@a.co.jp",
        role="decision_maker",
        is_key_person=True,
    )
    hanako = make_contact(session, a, name="佐藤 花子", name_kana="サトウ ハナコ", role="user")
    ken = make_contact(session, b, name="Ken Smith", email="KEN@B.example")
    cases: list[tuple[ContactFilter, set[int]]] = [
        (ContactFilter(account_id=a.id), {taro.id, hanako.id}),
        (ContactFilter(role="user"), {hanako.id}),
        (ContactFilter(is_key_person=True), {taro.id}),
        (ContactFilter(is_key_person=False), {hanako.id, ken.id}),
        (ContactFilter(email="ken@b.example"), {ken.id}),
        (ContactFilter(email="ＫＥＮ@b.example"), {ken.id}),
        (ContactFilter(q="山田"), {taro.id}),
        (ContactFilter(q="サトウ"), {hanako.id}),
        (ContactFilter(q="smith"), {ken.id}),
        (ContactFilter(q="a.co.jp"), {taro.id}),
        (ContactFilter(q="%"), set()),
    ]
    for f, ids in cases:
        assert {c.id for c in list_contacts(session, f).items} == ids, f


def test_it_filters_contacts_through_the_api(
    client: TestClient, session: Session, charlie: Person
) -> None:
    account = make_account(session)
    make_contact(session, account, name="鈴木 一郎", is_key_person=True)
    make_contact(session, account, name="田中 次郎")
    response = client.get(CONTACTS, params={"is_key_person": "true"}, headers=charlie.headers)
    assert [c["name"] for c in response.json()["items"]] == ["鈴木 一郎"]
    bad = client.get(CONTACTS, params={"q": "\x00"}, headers=charlie.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "q"


def test_it_rejects_a_stale_contact_version_and_overwrites_nothing(
    client: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    contact = make_contact(session, make_account(session), title="課長")
    url = f"{CONTACTS}/{contact.id}"
    first = client.patch(url, json={"version": 1, "title": "部長"}, headers=alice.headers)
    assert first.status_code == 200, first.text
    stale = client.patch(
        url, json={"version": 1, "title": "社長", "role": "user"}, headers=bob.headers
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["current"]["title"] == "部長"
    assert body["current"]["version"] == 2
    now = client.get(url, headers=bob.headers).json()
    assert (now["title"], now["role"], now["version"]) == ("部長", None, 2)


def test_the_service_refuses_a_stale_contact_version(session: Session, bob: Person) -> None:
    contact = make_contact(session, make_account(session))
    update_contact(session, bob.actor, contact.id, ContactPatch(version=1, phone="1"))
    with pytest.raises(Conflict) as caught:
        update_contact(session, bob.actor, contact.id, ContactPatch(version=1, phone="2"))
    assert caught.value.current is not None and caught.value.current["phone"] == "1"
    assert get_contact(session, contact.id).phone == "1"


def test_it_deletes_a_contact_only_when_confirmed(
    client: TestClient, session: Session, bob: Person
) -> None:
    contact = make_contact(session, make_account(session))
    url = f"{CONTACTS}/{contact.id}"
    refused = client.delete(url, headers=bob.headers)
    assert refused.status_code == 409
    assert refused.json()["error"] == "confirmation_required"
    assert refused.json()["impact"] == {"contacts": 1}
    assert client.get(url, headers=bob.headers).status_code == 200
    assert client.delete(f"{url}?confirm=true", headers=bob.headers).status_code == 204
    entry = history(session, "contact", contact.id)[-1]
    assert (entry.action, entry.actor_user_id, entry.after) == ("delete", bob.user.id, None)
    assert entry.before is not None and entry.before["name"] == "山田 太郎"


def test_the_service_deletes_nothing_unconfirmed(session: Session, bob: Person) -> None:
    contact = make_contact(session, make_account(session))
    with pytest.raises(ConfirmationRequired):
        delete_contact(session, bob.actor, contact.id, confirm=False)
    assert get_contact(session, contact.id).name == "山田 太郎"
    delete_contact(session, bob.actor, contact.id, confirm=True)
    with pytest.raises(NotFound):
        get_contact(session, contact.id)


def test_it_audits_every_contact_change(
    client: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    account = make_account(session)
    created = client.post(
        CONTACTS, json={"account_id": account.id, "name": "監査 花子"}, headers=bob.headers
    ).json()
    url = f"{CONTACTS}/{created['id']}"
    client.patch(url, json={"version": 1, "email": "h@example.jp"}, headers=alice.headers)
    client.delete(f"{url}?confirm=true", headers=alice.headers)
    entries = history(session, "contact", created["id"])
    assert [(e.action, e.actor) for e in entries] == [
        ("create", "bob@example.com via api"),
        ("update", "alice@example.com via api"),
        ("delete", "alice@example.com via api"),
    ]
    create, update, delete = entries
    assert create.before is None and create.after is not None
    assert update.before is not None and update.after is not None
    assert (update.before["email"], update.after["email"]) == (None, "h@example.jp")
    assert delete.before is not None and delete.before["email"] == "h@example.jp"


@pytest.mark.parametrize("text", HOSTILE)
def test_it_stores_hostile_contact_text_verbatim(
    client: TestClient, session: Session, bob: Person, text: str
) -> None:
    account = make_account(session)
    body = {"account_id": account.id, "name": text, "title": text, "name_kana": text}
    created = client.post(CONTACTS, json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    got = client.get(f"{CONTACTS}/{created.json()['id']}", headers=bob.headers).json()
    assert (got["name"], got["title"], got["name_kana"]) == (text, text, text)
    found = client.get(CONTACTS, params={"q": text}, headers=bob.headers).json()["items"]
    assert [c["id"] for c in found] == [got["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "長" * 201}, "name"),  # the column holds 200
        ({"name": "x" * 10_000}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "title": "t\x00"}, "title"),
        ({"name": "ok", "phone": "0" * 51}, "phone"),
        ({"name": "ok", "email": "not an address"}, "email"),
        ({"name": "ok", "role": "boss"}, "role"),
        ({"name": "ok", "is_key_person": "perhaps"}, "is_key_person"),
        ({"name": 7}, "name"),
        ({"name": "ok", "account_id": "one"}, "account_id"),
        ({"name": "ok", "account_id": 987_654}, "account_id"),
        ({"name": "ok", "account_id": 2**40}, "account_id"),
        ({"name": "ok", "custom": {"nope": 1}}, "custom.nope"),
        ({"name": "ok", "external_ids": {"crm": "\x00"}}, "external_ids.crm"),
    ],
)
def test_it_refuses_bad_contacts_naming_the_field(
    client: TestClient, session: Session, bob: Person, body: dict[str, Any], field: str
) -> None:
    account = make_account(session)
    response = client.post(CONTACTS, json={"account_id": account.id, **body}, headers=bob.headers)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert field in [e["field"] for e in errors]
    if field == "account_id" and isinstance(body["account_id"], int):
        assert "does not exist" in errors[0]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"version": 1, "account_id": 987_654},
        {"version": 1, "account_id": None},
        {"version": 1, "name": None},
        {"version": 1, "is_key_person": None},
        {"version": 1, "name": "x" * 201},
    ],
)
def test_it_refuses_bad_contact_changes(
    client: TestClient, session: Session, bob: Person, body: dict[str, Any]
) -> None:
    contact = make_contact(session, make_account(session))
    url = f"{CONTACTS}/{contact.id}"
    response = client.patch(url, json=body, headers=bob.headers)
    assert response.status_code == 422, response.text
    field = next(k for k in body if k != "version")
    assert response.json()["errors"][0]["field"] == field
    assert client.get(url, headers=bob.headers).json()["version"] == 1


def test_it_moves_a_contact_to_another_account(session: Session, bob: Person) -> None:
    contact = make_contact(session, make_account(session, name="旧"))
    new = make_account(session, name="新")
    moved = update_contact(
        session, bob.actor, contact.id, ContactPatch(version=1, account_id=new.id)
    )
    assert moved.account_id == new.id


def test_the_service_names_an_unknown_account(session: Session, bob: Person) -> None:
    contact = make_contact(session, make_account(session))
    with pytest.raises(InvalidInput) as caught:
        update_contact(session, bob.actor, contact.id, ContactPatch(version=1, account_id=2**31))
    assert caught.value.errors[0].field == "account_id"


@pytest.mark.parametrize("contact_id", ["424242", "0", str(2**31), str(10**20)])
def test_it_answers_404_for_a_missing_contact(
    client: TestClient, bob: Person, contact_id: str
) -> None:
    assert client.get(f"{CONTACTS}/{contact_id}", headers=bob.headers).status_code == 404
