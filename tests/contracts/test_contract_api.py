"""Contracts over REST: create, list, read, change, delete, movements, MRR, permissions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import history
from tests.conftest import Person
from tests.factories import make_account, make_contract

CONTRACTS = "/api/v1/contracts"
SERIES = "/api/v1/mrr/series"


def body(account: Account, **fields: Any) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "plan": "Standard",
        "mrr": 50_000,
        "seats": 10,
        "start_date": "2025-04-01",
        "end_date": "2026-03-31",
        **fields,
    }


def create(client: TestClient, person: Person, account: Account, **fields: Any) -> dict[str, Any]:
    response = client.post(CONTRACTS, json=body(account, **fields), headers=person.headers)
    assert response.status_code == 201, response.text
    return response.json()


def move(client: TestClient, person: Person, contract_id: int, **fields: Any) -> dict[str, Any]:
    url = f"{CONTRACTS}/{contract_id}/movements"
    response = client.post(url, json=fields, headers=person.headers)
    assert response.status_code == 201, response.text
    return response.json()


# ------------------------------------------------------------------ create, read, change


def test_it_creates_a_contract_with_its_first_movement(
    client: TestClient, session: Session, bob: Person
) -> None:
    account = make_account(session)
    contract = create(client, bob, account, external_ids={"accounting": "K-1"}, reason="受注")
    assert (contract["mrr"], contract["status"], contract["version"]) == (50_000, "active", 1)
    assert contract["external_ids"] == {"accounting": "K-1"}
    assert client.get(f"{CONTRACTS}/{contract['id']}", headers=bob.headers).json() == contract
    moves = client.get(f"{CONTRACTS}/{contract['id']}/movements", headers=bob.headers).json()
    assert [
        (m["kind"], m["effective_date"], m["mrr_delta"], m["reason"]) for m in moves["items"]
    ] == [("new", "2025-04-01", 50_000, "受注")]
    assert moves["items"][0]["actor"] == "bob@example.com via api"
    session.refresh(account)
    assert account.mrr == 50_000
    entry = history(session, "contract", contract["id"])[-1]
    assert (entry.action, entry.actor_user_id) == ("create", bob.user.id)


def test_it_records_movements_and_answers_with_the_contract(
    client: TestClient, session: Session, bob: Person
) -> None:
    account = make_account(session)
    contract = create(client, bob, account)
    url = f"{CONTRACTS}/{contract['id']}"
    grown = move(
        client,
        bob,
        contract["id"],
        kind="expansion",
        mrr=80_000,
        effective_date="2025-06-01",
        reason="席数追加",
        version=1,
    )
    assert grown["movement"]["mrr_delta"] == 30_000
    assert (grown["contract"]["mrr"], grown["contract"]["version"]) == (80_000, 2)
    move(client, bob, contract["id"], kind="contraction", pause=True, effective_date="2025-08-01")
    move(client, bob, contract["id"], kind="reactivation", mrr=70_000, effective_date="2025-10-01")
    move(client, bob, contract["id"], kind="churn", effective_date="2026-01-31")
    kinds = client.get(f"{url}/movements", headers=bob.headers).json()["items"]
    assert [(m["kind"], m["mrr_after"], m["status_after"]) for m in kinds] == [
        ("new", 50_000, "active"),
        ("expansion", 80_000, "active"),
        ("contraction", 0, "paused"),
        ("reactivation", 70_000, "active"),
        ("churn", 0, "churned"),
    ]
    newest = client.get(
        f"{url}/movements", params={"sort": "-effective_date", "limit": 2}, headers=bob.headers
    ).json()
    assert [m["kind"] for m in newest["items"]] == ["churn", "reactivation"]
    rest = client.get(
        f"{url}/movements",
        params={"sort": "-effective_date", "limit": 2, "cursor": newest["next_cursor"]},
        headers=bob.headers,
    ).json()
    assert [m["kind"] for m in rest["items"]] == ["contraction", "expansion"]


def test_it_lists_an_accounts_movements_across_contracts(
    client: TestClient, session: Session, bob: Person
) -> None:
    account, other = make_account(session), make_account(session, name="他社")
    first = create(client, bob, account, start_date="2025-01-01")
    create(client, bob, account, plan="Option", mrr=5_000, start_date="2025-02-01")
    create(client, bob, other)
    move(client, bob, first["id"], kind="expansion", mrr=60_000, effective_date="2025-03-01")
    url = f"/api/v1/accounts/{account.id}/movements"
    items = client.get(url, headers=bob.headers).json()["items"]
    assert [(m["effective_date"], m["kind"], m["plan_after"]) for m in items] == [
        ("2025-01-01", "new", "Standard"),
        ("2025-02-01", "new", "Option"),
        ("2025-03-01", "expansion", "Standard"),
    ]
    assert client.get("/api/v1/accounts/999999/movements", headers=bob.headers).status_code == 404


def test_it_filters_sorts_and_pages_contracts(
    client: TestClient, session: Session, bob: Person
) -> None:
    a, b = make_account(session), make_account(session, name="別会社")
    c1 = make_contract(session, a, plan="Pro", mrr=90_000, end_date=date(2025, 12, 31))
    c2 = make_contract(session, a, plan="Standard", mrr=30_000, end_date=date(2026, 6, 30))
    c3 = make_contract(session, b, plan="Pro", mrr=60_000, status="trial", end_date=None)

    def ids(**params: Any) -> list[int]:
        response = client.get(CONTRACTS, params=params, headers=bob.headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert ids() == [c1.id, c2.id, c3.id]
    assert ids(account_id=a.id) == [c1.id, c2.id]
    assert ids(status="trial") == [c3.id]
    assert ids(plan="Pro") == [c1.id, c3.id]
    assert ids(ends_before="2026-01-01") == [c1.id]
    assert ids(ends_after="2026-01-01") == [c2.id]
    assert ids(sort="-mrr") == [c1.id, c3.id, c2.id]
    assert ids(sort="end_date") == [c1.id, c2.id, c3.id]
    first = client.get(CONTRACTS, params={"sort": "mrr", "limit": 2}, headers=bob.headers).json()
    assert [c["id"] for c in first["items"]] == [c2.id, c3.id]
    assert ids(sort="mrr", limit=2, cursor=first["next_cursor"]) == [c1.id]


def test_it_changes_terms_and_refuses_a_stale_version(
    client: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    contract = create(client, bob, make_account(session))
    url = f"{CONTRACTS}/{contract['id']}"
    changed = client.patch(
        url, json={"version": 1, "plan": "Pro", "auto_renew": False}, headers=alice.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["plan"], changed.json()["auto_renew"]) == ("Pro", False)
    assert changed.json()["version"] == 2
    stale = client.patch(url, json={"version": 1, "plan": "Lite"}, headers=bob.headers)
    assert stale.status_code == 409
    assert stale.json()["error"] == "conflict"
    assert "reload" in stale.json()["message"]
    assert (stale.json()["current"]["plan"], stale.json()["current"]["version"]) == ("Pro", 2)
    stale_move = client.post(
        f"{url}/movements",
        json={"kind": "expansion", "mrr": 90_000, "effective_date": "2025-05-01", "version": 1},
        headers=bob.headers,
    )
    assert stale_move.status_code == 409
    assert client.get(url, headers=bob.headers).json()["mrr"] == 50_000


def test_it_deletes_only_when_confirmed(client: TestClient, session: Session, bob: Person) -> None:
    account = make_account(session)
    contract = create(client, bob, account)
    move(client, bob, contract["id"], kind="expansion", mrr=70_000, effective_date="2025-05-01")
    url = f"{CONTRACTS}/{contract['id']}"
    asked = client.delete(url, headers=bob.headers)
    assert asked.status_code == 409
    assert asked.json()["error"] == "confirmation_required"
    assert asked.json()["impact"] == {"contracts": 1, "movements": 2}
    assert "record a churn instead" in asked.json()["message"]
    assert client.get(url, headers=bob.headers).status_code == 200
    assert client.delete(f"{url}?confirm=true", headers=bob.headers).status_code == 204
    assert client.get(url, headers=bob.headers).status_code == 404
    assert client.get(f"{url}/movements", headers=bob.headers).status_code == 404
    session.refresh(account)
    assert account.mrr == 0
    gone = history(session, "contract", contract["id"])[-1]
    assert gone.action == "delete"
    assert gone.before is not None and len(gone.before["movements"]) == 2


# ------------------------------------------------------------------ MRR


def test_it_answers_mrr_on_a_day_and_as_a_monthly_series(
    client: TestClient, session: Session, charlie: Person
) -> None:
    a, b = make_account(session), make_account(session, name="二社目")
    make_contract(session, a, mrr=100_000, start_date=date(2025, 1, 10), end_date=None)
    make_contract(session, b, mrr=20_000, start_date=date(2025, 3, 1), end_date=None)
    total = client.get("/api/v1/mrr", params={"as_of": "2025-02-28"}, headers=charlie.headers)
    assert total.json() == {
        "as_of": "2025-02-28",
        "account_id": None,
        "currency": "JPY",
        "mrr": 100_000,
    }
    one = client.get(
        "/api/v1/mrr", params={"as_of": "2025-03-01", "account_id": b.id}, headers=charlie.headers
    )
    assert one.json()["mrr"] == 20_000
    series = client.get(
        "/api/v1/mrr/series",
        params={"from": "2024-12-01", "to": "2025-03-15", "interval": "month"},
        headers=charlie.headers,
    )
    assert series.status_code == 200, series.text
    assert series.json()["points"] == [
        {"date": "2024-12-31", "mrr": 0},
        {"date": "2025-01-31", "mrr": 100_000},
        {"date": "2025-02-28", "mrr": 100_000},
        {"date": "2025-03-31", "mrr": 120_000},
    ]
    default = client.get("/api/v1/mrr/series", headers=charlie.headers).json()
    assert len(default["points"]) == 12


@pytest.mark.parametrize(
    ("url", "params", "status", "field"),
    [
        ("/api/v1/mrr", {"as_of": "2025-02-30"}, 422, "as_of"),
        ("/api/v1/mrr", {"account_id": "abc"}, 422, "account_id"),
        ("/api/v1/mrr", {"account_id": 2**40}, 422, "account_id"),
        ("/api/v1/mrr", {"currency": "XYZ"}, 422, "currency"),
        ("/api/v1/mrr", {"account_id": 424242}, 404, None),
        ("/api/v1/mrr/series", {"interval": "week"}, 422, "interval"),
        ("/api/v1/mrr/series", {"from": "2025-05-01", "to": "2025-01-01"}, 422, "to"),
        ("/api/v1/mrr/series", {"from": "1800-01-01", "to": "2025-01-01"}, 422, "from"),
    ],
)
def test_it_refuses_bad_mrr_questions(
    client: TestClient,
    bob: Person,
    url: str,
    params: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    response = client.get(url, params=params, headers=bob.headers)
    assert response.status_code == status, response.text
    if field:
        assert response.json()["errors"][0]["field"] == field


def test_it_says_a_series_has_at_most_120_points(client: TestClient, bob: Person) -> None:
    ten_years = {"from": "2016-01-01", "to": "2025-12-31"}
    assert len(client.get(SERIES, params=ten_years, headers=bob.headers).json()["points"]) == 120
    response = client.get(SERIES, params={**ten_years, "to": "2026-01-01"}, headers=bob.headers)
    assert response.status_code == 422
    message = response.json()["errors"][0]["message"]
    assert "spans 121 months" in message and "at most 120 points" in message


# ------------------------------------------------------------------ permissions


def test_a_viewer_reads_but_cannot_write(
    client: TestClient, session: Session, charlie: Person
) -> None:
    account = make_account(session)
    contract = make_contract(session, account)
    url = f"{CONTRACTS}/{contract.id}"
    writes = [
        client.post(CONTRACTS, json=body(account), headers=charlie.headers),
        client.patch(url, json={"version": 1, "plan": "X"}, headers=charlie.headers),
        client.delete(f"{url}?confirm=true", headers=charlie.headers),
        client.post(
            f"{url}/movements",
            json={"kind": "churn", "effective_date": "2025-05-01"},
            headers=charlie.headers,
        ),
    ]
    assert [r.status_code for r in writes] == [403, 403, 403, 403]
    assert writes[0].json()["error"] == "forbidden"
    for read in (CONTRACTS, url, f"{url}/movements", "/api/v1/mrr"):
        assert client.get(read, headers=charlie.headers).status_code == 200, read
    assert client.get(url, headers=charlie.headers).json()["version"] == 1


def test_nothing_answers_without_a_token(client: TestClient, session: Session) -> None:
    contract = make_contract(session, make_account(session))
    for method, url in [
        ("GET", CONTRACTS),
        ("GET", f"{CONTRACTS}/{contract.id}"),
        ("POST", CONTRACTS),
        ("POST", f"{CONTRACTS}/{contract.id}/movements"),
        ("GET", "/api/v1/mrr"),
        ("GET", "/api/v1/mrr/series"),
        ("GET", "/api/v1/billing.csv?month=2025-05"),
    ]:
        response = client.request(method, url, json={})
        assert response.status_code == 401, (method, url)
        assert "Bearer" in response.json()["message"]
    wrong = client.get(CONTRACTS, headers={"Authorization": "Bearer banso_nope"})
    assert wrong.status_code == 401


# ------------------------------------------------------------------ bad input

HOSTILE = [
    "'; DROP TABLE contracts; --",
    "<script>alert(1)</script>",
    "制御\x01文字\x1b[31m赤",
    "絵文字 🏢🚀👨‍👩‍👧 混在",
    "\\%_ like ^$ .*",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_it_stores_hostile_text_verbatim(
    client: TestClient, session: Session, bob: Person, text: str
) -> None:
    contract = create(client, bob, make_account(session), plan=text, reason=text * 500)
    assert contract["plan"] == text
    found = client.get(CONTRACTS, params={"plan": text}, headers=bob.headers).json()["items"]
    assert [c["id"] for c in found] == [contract["id"]]
    moved = move(
        client,
        bob,
        contract["id"],
        kind="renewal",
        effective_date="2026-03-01",
        end_date="2027-03-31",
        reason=text,
        plan=text,
    )
    assert (moved["movement"]["reason"], moved["contract"]["plan"]) == (text, text)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mrr": 1.5}, "mrr"),
        ({"mrr": 50_000.0}, "mrr"),
        ({"mrr": True}, "mrr"),
        ({"mrr": "五万"}, "mrr"),
        ({"mrr": -1}, "mrr"),
        ({"mrr": 2**31}, "mrr"),
        ({"seats": 2**40}, "seats"),
        ({"account_id": 2**40}, "account_id"),
        ({"account_id": 987_654}, "account_id"),
        ({"account_id": "abc"}, "account_id"),
        ({"plan": ""}, "plan"),
        ({"plan": "P" * 101}, "plan"),
        ({"plan": "a\x00b"}, "plan"),
        ({"reason": "r" * 100_001}, "reason"),
        ({"start_date": "2025-13-01"}, "start_date"),
        ({"end_date": "2025-03-31"}, "body"),
        ({"currency": "XXX"}, "currency"),
        ({"status": "churned"}, "status"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_it_refuses_a_bad_contract(
    client: TestClient, session: Session, bob: Person, fields: dict[str, Any], field: str
) -> None:
    response = client.post(
        CONTRACTS, json=body(make_account(session), **fields), headers=bob.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "upsell", "effective_date": "2025-06-01"}, "kind"),
        ({"kind": "expansion", "effective_date": "2025-06-01", "mrr": 80_000.0}, "mrr"),
        ({"kind": "expansion", "effective_date": "2025-06-01", "mrr": 40_000}, "mrr"),
        ({"kind": "expansion", "effective_date": "2025-03-01", "mrr": 90_000}, "effective_date"),
        ({"kind": "expansion", "effective_date": "yesterday", "mrr": 90_000}, "effective_date"),
        ({"kind": "expansion", "mrr": 90_000}, "effective_date"),
        ({"kind": "churn", "effective_date": "2025-06-01", "reason": "\x00"}, "reason"),
        ({"kind": "renewal", "effective_date": "2025-06-01"}, "end_date"),
        ({"kind": "churn", "effective_date": "2025-06-01", "pause": True}, "pause"),
    ],
)
def test_it_refuses_a_bad_movement(
    client: TestClient, session: Session, bob: Person, fields: dict[str, Any], field: str
) -> None:
    contract = make_contract(session, make_account(session))
    url = f"{CONTRACTS}/{contract.id}/movements"
    response = client.post(url, json=fields, headers=bob.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
    assert client.get(f"{CONTRACTS}/{contract.id}", headers=bob.headers).json()["version"] == 1


def test_it_says_which_date_a_back_dated_movement_must_follow(
    client: TestClient, session: Session, bob: Person
) -> None:
    contract = make_contract(session, make_account(session))
    move(client, bob, contract.id, kind="expansion", mrr=60_000, effective_date="2025-09-15")
    late = client.post(
        f"{CONTRACTS}/{contract.id}/movements",
        json={"kind": "churn", "effective_date": "2025-09-01"},
        headers=bob.headers,
    )
    assert late.status_code == 422
    assert "latest is on 2025-09-15" in late.json()["message"]


@pytest.mark.parametrize(
    ("method", "suffix", "json"),
    [
        ("GET", "", None),
        ("PATCH", "", {"version": 1, "plan": "X"}),
        ("DELETE", "?confirm=true", None),
        ("POST", "/movements", {"kind": "churn", "effective_date": "2025-06-01"}),
        ("GET", "/movements", None),
    ],
)
@pytest.mark.parametrize("contract_id", ["999999", "0", "-5", str(2**31), str(2**63)])
def test_it_says_an_unknown_contract_does_not_exist(
    client: TestClient, bob: Person, method: str, suffix: str, json: Any, contract_id: str
) -> None:
    response = client.request(
        method, f"{CONTRACTS}/{contract_id}{suffix}", json=json, headers=bob.headers
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "gone"}, "status"),
        ({"account_id": "x"}, "account_id"),
        ({"account_id": 2**40}, "account_id"),
        ({"ends_before": "2025-02-30"}, "ends_before"),
        ({"sort": "plan"}, "sort"),
        ({"cursor": "bm9wZQ"}, "cursor"),
        ({"limit": 501}, "limit"),
        ({"plan": "a\x00b"}, "plan"),
    ],
)
def test_it_refuses_bad_list_parameters(
    client: TestClient, bob: Person, params: dict[str, Any], field: str
) -> None:
    response = client.get(CONTRACTS, params=params, headers=bob.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_it_refuses_bad_patches(client: TestClient, session: Session, bob: Person) -> None:
    contract = make_contract(session, make_account(session))
    url = f"{CONTRACTS}/{contract.id}"
    for patch, field in [
        ({"plan": "X"}, "version"),
        ({"version": 1, "plan": None}, "plan"),
        ({"version": 1, "auto_renew": None}, "auto_renew"),
        ({"version": 1, "end_date": "2020-01-01"}, "end_date"),
        ({"version": 1, "mrr": 1}, "mrr"),
        ({"version": 1, "status": "churned"}, "status"),
    ]:
        response = client.patch(url, json=patch, headers=bob.headers)
        assert response.status_code == 422, (patch, response.text)
        assert response.json()["errors"][0]["field"] == field, patch
    assert client.get(url, headers=bob.headers).json()["version"] == 1
