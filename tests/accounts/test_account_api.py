from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts.service import ACCOUNT_SORTS
from banso.audit.service import history
from tests.accounts.test_account_service import (
    FILTER_CASES,
    expected,
    resolve,
    seed_filter_cases,
)
from tests.conftest import Person
from tests.factories import make_account, make_contact, make_contract
from tests.test_listing import SORT_TAG, expected_order, seed_sort_cases

ACCOUNTS = "/api/v1/accounts"


def test_it_creates_and_reads_an_account(client: TestClient, bob: Person) -> None:
    body = {
        "name": "株式会社ＡＢＣ商事",
        "name_kana": "エービーシーショウジ",
        "domains": ["https://www.abc-shoji.co.jp/about"],
        "segment": "Enterprise",
        "tags": ["重要", "VIP"],
        "external_ids": {"salesforce": "001XYZ"},
    }
    created = client.post(ACCOUNTS, json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["domains"] == ["abc-shoji.co.jp"]
    assert account["tags"] == ["VIP", "重要"]
    got = client.get(f"{ACCOUNTS}/{account['id']}", headers=bob.headers).json()
    assert got["name"] == "株式会社ＡＢＣ商事"
    assert got["external_ids"] == {"salesforce": "001XYZ"}
    assert got == account


def test_it_lists_updates_and_deletes_an_account(client: TestClient, bob: Person) -> None:
    account = client.post(ACCOUNTS, json={"name": "一覧 株式会社"}, headers=bob.headers).json()
    url = f"{ACCOUNTS}/{account['id']}"
    listed = client.get(ACCOUNTS, headers=bob.headers).json()
    assert [a["id"] for a in listed["items"]] == [account["id"]]
    assert listed["next_cursor"] is None
    changed = client.patch(
        url, json={"version": 1, "industry": "飲食", "tags": ["new"]}, headers=bob.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["industry"], changed.json()["tags"]) == ("飲食", ["new"])
    assert changed.json()["version"] == 2
    assert client.delete(f"{url}?confirm=true", headers=bob.headers).status_code == 204
    gone = client.get(url, headers=bob.headers)
    assert gone.status_code == 404
    assert gone.json()["error"] == "not_found"


def test_it_rejects_a_stale_version(client: TestClient, alice: Person, bob: Person) -> None:
    account = client.post(ACCOUNTS, json={"name": "古い版"}, headers=bob.headers).json()
    url = f"{ACCOUNTS}/{account['id']}"
    first = client.patch(
        url, json={"version": account["version"], "segment": "SMB"}, headers=alice.headers
    )
    assert first.status_code == 200, first.text
    second = client.patch(
        url,
        json={"version": account["version"], "segment": "Mid", "tags": ["x"]},
        headers=bob.headers,
    )
    assert second.status_code == 409
    body = second.json()
    assert body["error"] == "conflict"
    assert "reload" in body["message"]
    assert body["current"]["segment"] == "SMB"
    assert body["current"]["version"] == 2
    now = client.get(url, headers=bob.headers).json()
    assert (now["segment"], now["tags"], now["version"]) == ("SMB", [], 2)


def test_viewer_cannot_write(client: TestClient, charlie: Person) -> None:
    response = client.post(ACCOUNTS, json={"name": "x"}, headers=charlie.headers)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert client.get(ACCOUNTS, headers=charlie.headers).json()["items"] == []


def test_it_names_bad_fields(client: TestClient, bob: Person) -> None:
    response = client.post(
        ACCOUNTS,
        json={"name": "", "company_size": "huge", "domains": ["not a domain"]},
        headers=bob.headers,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"name", "company_size", "domains.0"} <= fields


# ------------------------------------------------------------------ delete and audit


def test_it_deletes_nothing_without_confirmation(
    client: TestClient, session: Session, bob: Person
) -> None:
    account = make_account(session)
    make_contact(session, account)
    make_contract(session, account)
    url = f"{ACCOUNTS}/{account.id}"
    response = client.delete(url, headers=bob.headers)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "confirmation_required"
    assert body["impact"] == {"contacts": 1, "contracts": 1, "deals": 0}
    assert "Confirm" in body["message"]
    assert client.get(url, headers=bob.headers).status_code == 200
    assert client.delete(f"{url}?confirm=false", headers=bob.headers).status_code == 409
    assert [e.action for e in history(session, "account", account.id)] == ["create"]


def test_it_deletes_with_confirmation_and_audits_the_before(
    client: TestClient, session: Session, bob: Person
) -> None:
    created = client.post(
        ACCOUNTS, json={"name": "消える会社", "segment": "SMB"}, headers=bob.headers
    ).json()
    url = f"{ACCOUNTS}/{created['id']}"
    assert client.delete(f"{url}?confirm=true", headers=bob.headers).status_code == 204
    assert client.get(url, headers=bob.headers).status_code == 404
    entry = history(session, "account", created["id"])[-1]
    assert (entry.action, entry.actor, entry.actor_user_id) == (
        "delete",
        "bob@example.com via api",
        bob.user.id,
    )
    assert entry.before is not None
    assert (entry.before["name"], entry.before["segment"]) == ("消える会社", "SMB")
    assert entry.after is None


def test_it_audits_create_and_update_through_the_api(
    client: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    created = client.post(ACCOUNTS, json={"name": "監査対象"}, headers=bob.headers).json()
    client.patch(
        f"{ACCOUNTS}/{created['id']}",
        json={"version": 1, "lifecycle_stage": "stable"},
        headers=alice.headers,
    )
    create, update = history(session, "account", created["id"])
    assert (create.action, create.actor_user_id, create.before) == ("create", bob.user.id, None)
    assert create.after is not None and create.after["name"] == "監査対象"
    assert (update.action, update.actor) == ("update", "alice@example.com via api")
    assert update.before is not None and update.after is not None
    assert (update.before["lifecycle_stage"], update.after["lifecycle_stage"]) == (
        None,
        "stable",
    )


# ------------------------------------------------------------------ filters and sorting


def _query(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}


@pytest.mark.parametrize(("fields", "keys"), FILTER_CASES)
def test_it_filters_on_every_field(
    client: TestClient,
    session: Session,
    alice: Person,
    bob: Person,
    fields: dict[str, Any],
    keys: set[str],
) -> None:
    cases = seed_filter_cases(session, alice, bob)
    params = _query(resolve(fields, alice, bob))
    response = client.get(ACCOUNTS, params=params, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert {a["name"] for a in response.json()["items"]} == expected(cases, keys)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"updated_since": "2025-01-01T00:00:00"}, "updated_since"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"mrr_min": "lots"}, "mrr_min"),
        ({"mrr_max": 2**31}, "mrr_max"),
        ({"owner_id": "bob"}, "owner_id"),
        ({"owner_id": 10**20}, "owner_id"),
        ({"q": "a\x00b"}, "q"),
        ({"tag": "\x00"}, "tag"),
        ({"domain": "no domain here"}, "domain"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"sort": "password"}, "sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_it_refuses_bad_list_parameters(
    client: TestClient, bob: Person, params: dict[str, Any], field: str
) -> None:
    response = client.get(ACCOUNTS, params=params, headers=bob.headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert field in [e["field"] for e in body["errors"]]


def test_it_accepts_the_largest_limit_and_a_zoned_time(
    client: TestClient, session: Session, bob: Person
) -> None:
    make_account(session)
    params = {"limit": 500, "updated_since": "2020-01-01T09:00:00+09:00"}
    response = client.get(ACCOUNTS, params=params, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 1


def _walk(client: TestClient, person: Person, sort: str, limit: int) -> list[int]:
    ids: list[int] = []
    params: dict[str, Any] = {"sort": sort, "limit": limit, "tag": SORT_TAG}
    while True:
        response = client.get(ACCOUNTS, params=params, headers=person.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["items"]
        ids += [a["id"] for a in page["items"]]
        if page["next_cursor"] is None:
            return ids
        params["cursor"] = page["next_cursor"]


@pytest.mark.parametrize("sort", [s for name in ACCOUNT_SORTS for s in (name, f"-{name}")])
def test_it_pages_through_every_sort(
    client: TestClient, session: Session, charlie: Person, sort: str
) -> None:
    accounts = seed_sort_cases(session)
    ids = _walk(client, charlie, sort, limit=5)
    assert len(ids) == len(set(ids))
    assert ids == expected_order(accounts, sort)


def test_it_refuses_a_cursor_from_another_sort(
    client: TestClient, session: Session, bob: Person
) -> None:
    seed_sort_cases(session, count=4)
    first = client.get(ACCOUNTS, params={"sort": "-mrr", "limit": 2}, headers=bob.headers)
    cursor = first.json()["next_cursor"]
    for sort in ("mrr", "name", "-name"):
        response = client.get(
            ACCOUNTS, params={"sort": sort, "cursor": cursor}, headers=bob.headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "cursor"
    same = client.get(ACCOUNTS, params={"sort": "-mrr", "cursor": cursor}, headers=bob.headers)
    assert same.status_code == 200


# ------------------------------------------------------------------ hostile input

HOSTILE = [
    "'; DROP TABLE accounts; --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "<script>alert(1)</script>",
    "制御\x01文字\x1b[31m赤",
    "絵文字 🏢🚀👨‍👩‍👧 混在 Ünïcödé עברית العربية",
    "\\%_ like ^$ .* regex",
    "ｶﾀｶﾅ半角 と 全角ＡＢＣ",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_it_stores_hostile_text_verbatim(
    client: TestClient, session: Session, bob: Person, text: str
) -> None:
    body = {
        "name": text,
        "name_kana": text,
        "segment": text[:100],
        "industry": text[:100],
        "tags": [text[:100]],
        "external_ids": {"crm": text},
    }
    created = client.post(ACCOUNTS, json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    url = f"{ACCOUNTS}/{created.json()['id']}"
    got = client.get(url, headers=bob.headers).json()
    assert (got["name"], got["name_kana"], got["segment"]) == (text, text, text[:100])
    assert got["tags"] == [text[:100]]
    assert got["external_ids"] == {"crm": text}
    found = client.get(ACCOUNTS, params={"q": text}, headers=bob.headers).json()["items"]
    assert [a["id"] for a in found] == [got["id"]]
    by_tag = client.get(ACCOUNTS, params={"tag": text[:100]}, headers=bob.headers).json()
    assert [a["id"] for a in by_tag["items"]] == [got["id"]]
    after = history(session, "account", got["id"])[0].after
    assert after is not None
    assert (after["name"], after["tags"]) == (text, [text[:100]])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"name": "ok", "name_kana": "\x00"}, "name_kana"),
        ({"name": "ok", "segment": "S\x00MB"}, "segment"),
        ({"name": "ok", "tags": ["t\x00"]}, "tags.0"),
        ({"name": "ok", "external_ids": {"crm": "a\x00"}}, "external_ids.crm"),
    ],
)
def test_it_refuses_a_nul_and_says_so(
    client: TestClient, bob: Person, body: dict[str, Any], field: str
) -> None:
    response = client.post(ACCOUNTS, json=body, headers=bob.headers)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert "NUL" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "長" * 301}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": "ok", "name_kana": "カ" * 201}, "name_kana"),
        ({"name": "ok", "segment": "s" * 101}, "segment"),
        ({"name": "ok", "tags": ["t" * 101]}, "tags.0"),
        ({"name": "ok", "tags": [f"t{i}" for i in range(101)]}, "tags"),
        ({"name": "ok", "external_ids": {"crm": "1" * 201}}, "external_ids.crm"),
        ({"name": "ok", "external_ids": {"Bad System": "1"}}, "external_ids.Bad System.[key]"),
        ({"name": "   "}, "name"),
    ],
)
def test_it_refuses_too_long_or_empty_values_naming_the_field(
    client: TestClient, bob: Person, body: dict[str, Any], field: str
) -> None:
    response = client.post(ACCOUNTS, json=body, headers=bob.headers)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("owner_id", [999_999, 0, -5, 2**31, 10**20])
def test_it_refuses_an_unknown_owner(client: TestClient, bob: Person, owner_id: int) -> None:
    response = client.post(ACCOUNTS, json={"name": "ok", "owner_id": owner_id}, headers=bob.headers)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "owner_id"
    assert "does not exist" in error["message"]


def test_it_refuses_an_unknown_owner_on_update(
    client: TestClient, session: Session, bob: Person
) -> None:
    account = make_account(session)
    response = client.patch(
        f"{ACCOUNTS}/{account.id}", json={"version": 1, "owner_id": 424242}, headers=bob.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner_id"
    assert client.get(f"{ACCOUNTS}/{account.id}", headers=bob.headers).json()["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 123}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "ok", "tags": "重要"}, "tags"),
        ({"name": "ok", "domains": "abc.co.jp"}, "domains"),
        ({"name": "ok", "custom": ["x"]}, "custom"),
        ({"name": "ok", "owner_id": "bob"}, "owner_id"),
        ({"name": "ok", "owner_id": 1.5}, "owner_id"),
        ({"name": "ok", "external_ids": ["001"]}, "external_ids"),
        ({"name": "ok", "lifecycle_stage": "happy"}, "lifecycle_stage"),
        ({"name": "ok", "mrr": 100}, "mrr"),  # MRR comes from contracts, not from here
        ({"name": "ok", "id": 7}, "id"),
        ({}, "name"),
    ],
)
def test_it_refuses_wrong_json_types(
    client: TestClient, bob: Person, body: dict[str, Any], field: str
) -> None:
    response = client.post(ACCOUNTS, json=body, headers=bob.headers)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize("raw", ["[]", '"name"', "{not json", "null", ""])
def test_it_refuses_a_body_that_is_not_an_object(client: TestClient, bob: Person, raw: str) -> None:
    response = client.post(
        ACCOUNTS, content=raw, headers={**bob.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"


@pytest.mark.parametrize(
    "body", [{"segment": "x"}, {"version": "one"}, {"version": 1, "name": None}]
)
def test_it_refuses_a_bad_patch(
    client: TestClient, session: Session, bob: Person, body: dict[str, Any]
) -> None:
    account = make_account(session)
    response = client.patch(f"{ACCOUNTS}/{account.id}", json=body, headers=bob.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


@pytest.mark.parametrize("account_id", ["999999", "0", "-1", str(2**31), str(10**20)])
def test_it_answers_404_for_an_account_that_does_not_exist(
    client: TestClient, bob: Person, account_id: str
) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = client.request(
            method,
            f"{ACCOUNTS}/{account_id}?confirm=true",
            json={"version": 1} if method == "PATCH" else None,
            headers=bob.headers,
        )
        assert response.status_code == 404, (method, response.text)
        assert account_id.lstrip("-") in response.json()["message"]


def test_it_answers_422_for_an_id_that_is_not_a_number(client: TestClient, bob: Person) -> None:
    response = client.get(f"{ACCOUNTS}/abc", headers=bob.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "account_id"
