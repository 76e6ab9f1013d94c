"""Filtering lists on custom fields (``custom.<key>=value``), compared as each type stores it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition
from banso.accounts.service import AccountFilter, ContactFilter, list_accounts, list_contacts
from banso.audit.service import Actor
from banso.errors import InvalidInput
from tests.conftest import Person
from tests.factories import make_account, make_contact

ADMIN = Actor(label="test admin")
DEFINITIONS: list[dict[str, Any]] = [
    {"key": "note", "type": "text"},
    {"key": "plan", "type": "single_choice", "choices": ["Gold", "Silver", "Bronze"]},
    {"key": "modules", "type": "multi_choice", "choices": ["CRM", "MA", "SFA", "ERP"]},
    {"key": "seats", "type": "number"},
    {"key": "partner", "type": "checkbox"},
    {"key": "budget", "type": "money"},
    {"key": "renewal", "type": "date"},
    {"key": "csm", "type": "user"},
    {"key": "site", "type": "url"},
]


def seed(session: Session, bob: Person) -> None:
    for d in DEFINITIONS:
        create_definition(session, ADMIN, CustomFieldIn(label_ja=d["key"], label_en=d["key"], **d))
    make_account(
        session,
        name="A",
        custom={
            "note": "メモ",
            "plan": "Gold",
            "modules": ["CRM", "MA"],
            "seats": 10,
            "partner": True,
            "budget": 1200,
            "renewal": "2025-04-01",
            "csm": bob.user.id,
            "site": "https://a.example.jp/",
        },
    )
    make_account(
        session,
        name="B",
        custom={
            "note": "memo",
            "plan": "Silver",
            "modules": ["MA"],
            "seats": 2.5,
            "partner": False,
            "budget": 0,
        },
    )
    make_account(session, name="C")


CASES: list[tuple[dict[str, str], set[str]]] = [
    ({"note": "メモ"}, {"A"}),
    ({"note": "memo"}, {"B"}),
    ({"note": "MEMO"}, set()),
    ({"plan": "Gold"}, {"A"}),
    ({"plan": "Silver"}, {"B"}),
    ({"plan": "Bronze"}, set()),
    ({"plan": ""}, {"C"}),  # empty: the field is not set
    ({"modules": "MA"}, {"A", "B"}),  # a multiple choice contains the value
    ({"modules": "CRM"}, {"A"}),
    ({"modules": "CRM,MA"}, {"A"}),  # ... every value given
    ({"modules": "SFA"}, set()),
    ({"modules": ""}, {"C"}),
    ({"seats": "10"}, {"A"}),
    ({"seats": "10.0"}, {"A"}),
    ({"seats": "2.5"}, {"B"}),
    ({"seats": "2"}, set()),
    ({"partner": "true"}, {"A"}),
    ({"partner": "はい"}, {"A"}),
    ({"partner": "false"}, {"B", "C"}),  # an unset checkbox is unchecked
    ({"budget": "1200"}, {"A"}),
    ({"budget": "¥1,200"}, {"A"}),
    ({"budget": "0"}, {"B"}),
    ({"renewal": "2025/04/01"}, {"A"}),
    ({"renewal": "2025-04-02"}, set()),
    ({"csm": "<bob>"}, {"A"}),
    ({"site": "https://a.example.jp/"}, {"A"}),
    ({"plan": "Gold", "partner": "true", "modules": "MA"}, {"A"}),
    ({"plan": "Gold", "partner": "false"}, set()),
]


def _values(custom: dict[str, str], bob: Person) -> dict[str, str]:
    return {k: str(bob.user.id) if v == "<bob>" else v for k, v in custom.items()}


@pytest.mark.parametrize(("custom", "names"), CASES)
def test_it_filters_on_custom_fields(
    session: Session, bob: Person, custom: dict[str, str], names: set[str]
) -> None:
    seed(session, bob)
    found = list_accounts(session, AccountFilter(custom=_values(custom, bob))).items
    assert {a.name for a in found} == names


@pytest.mark.parametrize(("custom", "names"), CASES)
def test_it_filters_on_custom_fields_through_the_api(
    client: TestClient, session: Session, bob: Person, custom: dict[str, str], names: set[str]
) -> None:
    seed(session, bob)
    params = {f"custom.{k}": v for k, v in _values(custom, bob).items()}
    response = client.get("/api/v1/accounts", params=params, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert {a["name"] for a in response.json()["items"]} == names


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("nope", "1"),  # no such field
        ("plan", "Platinum"),
        ("modules", "CRM,Payroll"),
        ("seats", "many"),
        ("partner", "maybe"),
        ("budget", "12.5"),
        ("renewal", "someday"),
        ("csm", "424242"),
        ("note", "a\x00b"),
        ("", "x"),
        ('x"]; DROP TABLE accounts; --', "1"),
        ("note.$", "1"),
    ],
)
def test_it_refuses_a_bad_custom_filter_naming_it(
    client: TestClient, session: Session, bob: Person, key: str, value: str
) -> None:
    seed(session, bob)
    response = client.get("/api/v1/accounts", params={f"custom.{key}": value}, headers=bob.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"custom.{key}"


def test_the_service_names_an_unknown_custom_filter(session: Session, bob: Person) -> None:
    seed(session, bob)
    with pytest.raises(InvalidInput) as caught:
        list_accounts(session, AccountFilter(custom={"plan_typo": "Gold"}))
    assert caught.value.errors[0].field == "custom.plan_typo"
    assert "plan_typo" in caught.value.errors[0].message


def test_it_filters_contacts_on_their_own_custom_fields(
    client: TestClient, session: Session, bob: Person
) -> None:
    create_definition(
        session,
        ADMIN,
        CustomFieldIn(
            entity="contact", key="hobby", type="text", label_ja="趣味", label_en="Hobby"
        ),
    )
    account = make_account(session)
    make_contact(session, account, name="囲碁の人", custom={"hobby": "囲碁"})
    make_contact(session, account, name="無趣味の人")
    found = list_contacts(session, ContactFilter(custom={"hobby": "囲碁"})).items
    assert [c.name for c in found] == ["囲碁の人"]
    response = client.get("/api/v1/contacts", params={"custom.hobby": ""}, headers=bob.headers)
    assert [c["name"] for c in response.json()["items"]] == ["無趣味の人"]
    unknown = client.get("/api/v1/accounts", params={"custom.hobby": "囲碁"}, headers=bob.headers)
    assert unknown.status_code == 422
