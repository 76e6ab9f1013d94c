"""Custom fields: admin-only definitions, every type's good and bad values, required, unknown."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition, validate_custom
from banso.audit.service import Actor, history
from banso.errors import InvalidInput
from tests.conftest import Person

FIELDS = "/api/v1/custom-fields"
ACCOUNTS = "/api/v1/accounts"
ADMIN = Actor(label="test admin")

CHOICES = {"single_choice": ["Gold", "Silver"], "multi_choice": ["CRM", "MA", "SFA"]}

# (type, value sent, value stored); "<bob>" stands for bob's user id.
GOOD: list[tuple[str, Any, Any]] = [
    ("text", "短いメモ", "短いメモ"),
    ("text", "x" * 1000, "x" * 1000),
    (
        "text",
        "制御\x01\x1b文字 🚀 <script>alert(1)</script>",
        "制御\x01\x1b文字 🚀 <script>alert(1)</script>",
    ),
    ("long_text", "議事録\n" * 2000, "議事録\n" * 2000),
    ("long_text", "'; DROP TABLE accounts; --", "'; DROP TABLE accounts; --"),
    ("number", 5, 5),
    ("number", -2.5, -2.5),
    ("number", "1,234", 1234),
    ("number", "3.0", 3),
    ("money", 1200, 1200),
    ("money", "¥1,200", 1200),
    ("money", "1200円", 1200),
    ("money", 0, 0),
    ("date", "2025-04-01", "2025-04-01"),
    ("date", "2025/04/01", "2025-04-01"),
    ("single_choice", "Gold", "Gold"),
    ("multi_choice", ["CRM", "MA"], ["CRM", "MA"]),
    ("multi_choice", "CRM, SFA", ["CRM", "SFA"]),
    ("multi_choice", ["MA", "MA"], ["MA"]),
    ("user", "<bob>", "<bob>"),
    ("user", "<bob-text>", "<bob>"),
    ("url", "https://example.co.jp/a?b=1", "https://example.co.jp/a?b=1"),
    ("url", "http://例え.jp/パス", "http://例え.jp/パス"),
    ("checkbox", True, True),
    ("checkbox", False, False),
    ("checkbox", "はい", True),
    ("checkbox", "false", False),
]

BAD: list[tuple[str, Any]] = [
    ("text", 123),
    ("text", "x" * 1001),
    ("text", ["a"]),
    ("text", "a\x00b"),
    ("long_text", "x" * 100_001),
    ("long_text", {"a": 1}),
    ("number", "abc"),
    ("number", True),
    ("number", "nan"),
    ("number", "inf"),
    ("number", [1]),
    ("money", 12.5),
    ("money", 12.0),  # a float, even a whole one: amounts are integers
    ("money", True),
    ("money", "abc"),
    ("money", "Infinity"),
    ("money", "12.5"),
    ("money", [1]),
    ("date", "2025-13-01"),
    ("date", "tomorrow"),
    ("date", 20250401),
    ("single_choice", "gold"),
    ("single_choice", "Bronze"),
    ("single_choice", ["Gold"]),
    ("single_choice", "Gold\x00"),
    ("multi_choice", ["ERP"]),
    ("multi_choice", "ERP"),
    ("multi_choice", 5),
    ("multi_choice", ["CRM\x00"]),
    ("user", 999_999),
    ("user", "bob"),
    ("user", 1.0),
    ("user", True),
    ("user", 2**40),
    ("url", "javascript:alert(1)"),
    ("url", "ftp://example.com/x"),
    ("url", "not a url"),
    ("url", 5),
    ("url", "https://a.jp/\x00"),
    ("url", "https://a.jp/" + "a" * 2000),
    ("checkbox", "maybe"),
    ("checkbox", [True]),
    ("checkbox", 2),
]


def define(client: TestClient, admin: Person, kind: str, **extra: Any) -> dict[str, Any]:
    body = {
        "key": f"f_{kind}",
        "type": kind,
        "label_ja": f"項目 {kind}",
        "label_en": f"Field {kind}",
        **({"choices": CHOICES[kind]} if kind in CHOICES else {}),
        **extra,
    }
    response = client.post(FIELDS, json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _person_value(value: Any, bob: Person) -> Any:
    if value == "<bob>":
        return bob.user.id
    return str(bob.user.id) if value == "<bob-text>" else value


@pytest.mark.parametrize(("kind", "sent", "stored"), GOOD)
def test_it_accepts_and_returns_a_good_value(
    client: TestClient, alice: Person, bob: Person, kind: str, sent: Any, stored: Any
) -> None:
    key = define(client, alice, kind)["key"]
    body = {"name": "カスタム", "custom": {key: _person_value(sent, bob)}}
    created = client.post(ACCOUNTS, json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    got = client.get(f"{ACCOUNTS}/{created.json()['id']}", headers=bob.headers).json()
    assert got["custom"] == {key: _person_value(stored, bob)}


@pytest.mark.parametrize(("kind", "sent"), BAD)
def test_it_refuses_a_bad_value_naming_the_field(
    client: TestClient, alice: Person, bob: Person, kind: str, sent: Any
) -> None:
    key = define(client, alice, kind)["key"]
    response = client.post(
        ACCOUNTS, json={"name": "カスタム", "custom": {key: sent}}, headers=bob.headers
    )
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == f"custom.{key}"
    assert f"Field {kind}" in error["message"] and f"項目 {kind}" in error["message"]
    assert client.get(ACCOUNTS, headers=bob.headers).json()["items"] == []


def test_it_refuses_a_bad_value_on_update_and_keeps_the_old(
    client: TestClient, alice: Person, bob: Person
) -> None:
    key = define(client, alice, "number")["key"]
    account = client.post(
        ACCOUNTS, json={"name": "更新", "custom": {key: 1}}, headers=bob.headers
    ).json()
    url = f"{ACCOUNTS}/{account['id']}"
    refused = client.patch(url, json={"version": 1, "custom": {key: "many"}}, headers=bob.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == f"custom.{key}"
    assert client.get(url, headers=bob.headers).json()["custom"] == {key: 1}


def test_it_merges_custom_values_and_removes_one_sent_as_null(
    client: TestClient, alice: Person, bob: Person
) -> None:
    text = define(client, alice, "text")["key"]
    number = define(client, alice, "number")["key"]
    account = client.post(
        ACCOUNTS, json={"name": "統合", "custom": {text: "a", number: 1}}, headers=bob.headers
    ).json()
    url = f"{ACCOUNTS}/{account['id']}"
    changed = client.patch(url, json={"version": 1, "custom": {number: 2}}, headers=bob.headers)
    assert changed.json()["custom"] == {text: "a", number: 2}
    cleared = client.patch(url, json={"version": 2, "custom": {text: None}}, headers=bob.headers)
    assert cleared.json()["custom"] == {number: 2}


def test_it_requires_a_required_field(client: TestClient, alice: Person, bob: Person) -> None:
    key = define(client, alice, "single_choice", required=True)["key"]
    missing = client.post(ACCOUNTS, json={"name": "必須"}, headers=bob.headers)
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": f"custom.{key}", "message": "is required"}]
    ok = client.post(ACCOUNTS, json={"name": "必須", "custom": {key: "Gold"}}, headers=bob.headers)
    assert ok.status_code == 201, ok.text
    url = f"{ACCOUNTS}/{ok.json()['id']}"
    removed = client.patch(url, json={"version": 1, "custom": {key: None}}, headers=bob.headers)
    assert removed.status_code == 422
    assert removed.json()["errors"][0]["field"] == f"custom.{key}"
    blank = client.patch(url, json={"version": 1, "custom": {key: "  "}}, headers=bob.headers)
    assert blank.status_code == 422


def test_it_refuses_an_unknown_key(client: TestClient, alice: Person, bob: Person) -> None:
    define(client, alice, "text")
    response = client.post(
        ACCOUNTS, json={"name": "未知", "custom": {"plan_typo": "x"}}, headers=bob.headers
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "custom.plan_typo"
    assert "no custom field 'plan_typo' for account" in error["message"]


def test_it_keeps_fields_of_other_entities_apart(
    client: TestClient, alice: Person, bob: Person
) -> None:
    define(client, alice, "text", entity="contact", key="hobby")
    response = client.post(
        ACCOUNTS, json={"name": "別", "custom": {"hobby": "囲碁"}}, headers=bob.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "custom.hobby"


def test_it_reports_every_bad_custom_value_at_once(session: Session) -> None:
    for kind in ("number", "date"):
        create_definition(
            session,
            ADMIN,
            CustomFieldIn(key=f"f_{kind}", type=kind, label_ja=kind, label_en=kind),  # type: ignore[arg-type]
        )
    with pytest.raises(InvalidInput) as caught:
        validate_custom(session, "account", {"f_number": "x", "f_date": "x", "other": 1})
    assert {e.field for e in caught.value.errors} == {
        "custom.f_number",
        "custom.f_date",
        "custom.other",
    }


def test_money_follows_the_workspace_currency(session: Session) -> None:
    create_definition(
        session,
        ADMIN,
        CustomFieldIn(key="budget", type="money", label_ja="予算", label_en="Budget"),
    )
    session.info["currency"] = "USD"
    assert validate_custom(session, "account", {"budget": "$12.50"}) == {"budget": 1250}
    with pytest.raises(InvalidInput):
        validate_custom(session, "account", {"budget": "12.505"})


# ------------------------------------------------------------------ definitions


def test_an_admin_manages_definitions_with_both_labels(
    client: TestClient, session: Session, alice: Person, charlie: Person
) -> None:
    created = define(client, alice, "single_choice", help_text="契約プラン", position=2)
    assert (created["label_ja"], created["label_en"]) == (
        "項目 single_choice",
        "Field single_choice",
    )
    define(client, alice, "text", position=1)
    listed = client.get(FIELDS, headers=charlie.headers).json()
    assert [f["key"] for f in listed] == ["f_text", "f_single_choice"]
    assert listed[1]["choices"] == ["Gold", "Silver"]
    assert listed[1]["help_text"] == "契約プラン"
    url = f"{FIELDS}/{created['id']}"
    changed = client.patch(
        url,
        json={"version": 1, "label_ja": "プラン", "choices": ["Gold", "Silver", "Bronze"]},
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["label_ja"], changed.json()["version"]) == ("プラン", 2)
    assert changed.json()["label_en"] == "Field single_choice"
    stale = client.patch(url, json={"version": 1, "label_en": "Plan"}, headers=alice.headers)
    assert stale.status_code == 409
    assert stale.json()["current"]["label_ja"] == "プラン"
    assert client.delete(url, headers=alice.headers).status_code == 409
    assert client.delete(f"{url}?confirm=true", headers=alice.headers).status_code == 204
    assert [f["key"] for f in client.get(FIELDS, headers=alice.headers).json()] == ["f_text"]
    actions = [e.action for e in history(session, "custom_field", created["id"])]
    assert actions == ["create", "update", "delete"]


def test_contact_fields_are_listed_per_entity(client: TestClient, alice: Person) -> None:
    define(client, alice, "text", entity="contact", key="hobby")
    define(client, alice, "number")
    contacts = client.get(FIELDS, params={"entity": "contact"}, headers=alice.headers).json()
    assert [f["key"] for f in contacts] == ["hobby"]
    assert [f["key"] for f in client.get(FIELDS, headers=alice.headers).json()] == ["f_number"]


def test_values_stay_on_records_after_the_definition_goes(
    client: TestClient, alice: Person, bob: Person
) -> None:
    field = define(client, alice, "text")
    account = client.post(
        ACCOUNTS, json={"name": "残る", "custom": {"f_text": "値"}}, headers=bob.headers
    ).json()
    client.delete(f"{FIELDS}/{field['id']}?confirm=true", headers=alice.headers)
    got = client.get(f"{ACCOUNTS}/{account['id']}", headers=bob.headers).json()
    assert got["custom"] == {"f_text": "値"}


@pytest.mark.parametrize("person", ["bob", "charlie"])
def test_only_an_admin_may_change_definitions(
    client: TestClient,
    alice: Person,
    bob: Person,
    charlie: Person,
    person: str,
) -> None:
    who = {"bob": bob, "charlie": charlie}[person]
    field = define(client, alice, "text")
    url = f"{FIELDS}/{field['id']}"
    body = {"key": "sneaky", "type": "text", "label_ja": "x", "label_en": "x"}
    answers = [
        client.post(FIELDS, json=body, headers=who.headers),
        client.patch(url, json={"version": 1, "label_ja": "乗っ取り"}, headers=who.headers),
        client.delete(f"{url}?confirm=true", headers=who.headers),
    ]
    assert [r.status_code for r in answers] == [403, 403, 403]
    assert all("admin" in r.json()["message"] for r in answers)
    listed = client.get(FIELDS, headers=who.headers).json()
    assert [(f["key"], f["label_ja"], f["version"]) for f in listed] == [("f_text", "項目 text", 1)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"key": "Plan Type"}, "key"),
        ({"key": "1plan"}, "key"),
        ({"key": "p" * 65}, "key"),
        ({"key": "plan\x00"}, "key"),
        ({"type": "colour"}, "type"),
        ({"entity": "planet"}, "entity"),
        ({"label_ja": ""}, "label_ja"),
        ({"label_en": "x" * 101}, "label_en"),
        ({"label_en": "a\x00"}, "label_en"),
        ({"type": "single_choice"}, "body"),  # no choices
        ({"type": "single_choice", "choices": ["A", "A"]}, "body"),
        ({"choices": ["A"]}, "body"),  # a text field takes no choices
        ({"position": -1}, "position"),
        ({"position": 2**40}, "position"),
        ({"required": "sometimes"}, "required"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_it_refuses_a_bad_definition(
    client: TestClient, alice: Person, body: dict[str, Any], field: str
) -> None:
    base = {"key": "plan", "type": "text", "label_ja": "プラン", "label_en": "Plan"}
    response = client.post(FIELDS, json={**base, **body}, headers=alice.headers)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


def test_it_refuses_a_second_field_with_the_same_key(client: TestClient, alice: Person) -> None:
    define(client, alice, "text")
    again = client.post(
        FIELDS,
        json={"key": "f_text", "type": "number", "label_ja": "重複", "label_en": "Dup"},
        headers=alice.headers,
    )
    assert again.status_code == 409
    assert "f_text" in again.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"label_ja": None}, "body"),
        ({"label_en": None}, "body"),
        ({"required": None}, "body"),
        ({"position": None}, "body"),
        ({"choices": ["A"]}, "choices"),
        ({"type": "number"}, "type"),
        ({"key": "other"}, "key"),
        ({"label_ja": ""}, "label_ja"),
    ],
)
def test_it_refuses_a_bad_definition_change(
    client: TestClient, alice: Person, body: dict[str, Any], field: str
) -> None:
    created = define(client, alice, "text")
    url = f"{FIELDS}/{created['id']}"
    response = client.patch(url, json={"version": 1, **body}, headers=alice.headers)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    after = client.get(FIELDS, headers=alice.headers).json()[0]
    assert (after["label_ja"], after["version"]) == ("項目 text", 1)


def test_it_answers_404_for_a_missing_definition(client: TestClient, alice: Person) -> None:
    for field_id in ("4242", str(2**40)):
        response = client.patch(f"{FIELDS}/{field_id}", json={"version": 1}, headers=alice.headers)
        assert response.status_code == 404
