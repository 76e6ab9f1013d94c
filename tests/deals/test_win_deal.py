"""Winning a deal creates or links the account and starts its first contract, all or nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import history
from banso.contracts.models import Contract, ContractMovement
from banso.deals.schemas import WinIn
from banso.deals.service import win_deal
from banso.errors import Conflict
from tests.conftest import Person
from tests.deals.factories import make_deal
from tests.factories import SYSTEM, make_account, make_contract

DEALS = "/api/v1/deals"
WIN = {"plan": "Standard", "mrr": 80_000, "seats": 20, "start_date": "2025-07-01"}


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_it_creates_the_account_from_the_inquiry(
    client: TestClient, bob: Person, session: Session
) -> None:
    deal = make_deal(
        session,
        company_name="株式会社ミライ物流",
        company_size="50-99",
        source_channel="ウェビナー",
        stage_key="negotiation",
    )
    body = WIN | {"domains": ["https://mirai-logi.co.jp/"], "end_date": "2026-06-30"}
    response = client.post(f"{DEALS}/{deal.id}/win", json=body, headers=bob.headers)
    assert response.status_code == 200, response.text
    won = response.json()
    assert won["account_created"] is True
    account = session.get(Account, won["account_id"])
    assert account is not None and account.name == "株式会社ミライ物流"
    assert (account.company_size, account.source) == ("50-99", "ウェビナー")
    assert [d.domain for d in account.domains] == ["mirai-logi.co.jp"]
    assert account.mrr == 80_000
    contract = session.get(Contract, won["contract_id"])
    assert contract is not None and (contract.plan, contract.mrr, contract.seats) == (
        "Standard",
        80_000,
        20,
    )
    movement = session.scalar(
        select(ContractMovement).where(ContractMovement.contract_id == contract.id)
    )
    assert movement is not None and (movement.kind, movement.mrr_after) == ("new", 80_000)
    assert won["deal"]["stage_key"] == "won" and won["deal"]["outcome"] == "won"
    assert won["deal"]["account_id"] == account.id
    assert won["deal"]["contract_id"] == contract.id
    assert won["deal"]["closed_date"] is not None
    assert history(session, "deal", deal.id)[-1].after["won"] == {"account_created": True}  # type: ignore[index]
    assert history(session, "account", account.id)[0].action == "create"


def test_it_links_an_existing_account_and_adds_to_its_mrr(
    client: TestClient, bob: Person, session: Session
) -> None:
    account = make_account(session, name="既存顧客株式会社")
    make_contract(session, account, mrr=50_000)
    deal = make_deal(session, company_name=None, account_id=account.id)
    body = WIN | {"closed_date": "2025-06-20"}
    accounts_before = count(session, Account)
    won = client.post(f"{DEALS}/{deal.id}/win", json=body, headers=bob.headers).json()
    assert (won["account_id"], won["account_created"]) == (account.id, False)
    assert count(session, Account) == accounts_before
    session.refresh(account)
    assert account.mrr == 130_000
    assert won["deal"]["closed_date"] == "2025-06-20"


def test_it_links_the_account_named_in_the_request(
    client: TestClient, bob: Person, session: Session
) -> None:
    account = make_account(session, name="名寄せ済み株式会社")
    deal = make_deal(session, company_name="名寄せ済み(株)")
    body = WIN | {"account_id": account.id, "version": 1}
    won = client.post(f"{DEALS}/{deal.id}/win", json=body, headers=bob.headers).json()
    assert (won["account_id"], won["account_created"]) == (account.id, False)


def test_a_refused_win_changes_nothing(session: Session) -> None:
    """The account is created before the contract is refused; the savepoint takes it back."""
    make_contract(session, make_account(session), external_ids={"crm": "C-1"})
    deal = make_deal(session, company_name="新規株式会社")
    accounts, contracts = count(session, Account), count(session, Contract)
    data = WinIn(**WIN, contract_external_ids={"crm": "C-1"})  # belongs to another contract
    with pytest.raises(Conflict):
        win_deal(session, SYSTEM, deal.id, data)
    assert (count(session, Account), count(session, Contract)) == (accounts, contracts)
    session.refresh(deal)
    assert (deal.stage_key, deal.contract_id, deal.account_id) == ("inquiry", None, None)
    assert [e.action for e in history(session, "deal", deal.id)] == ["create"]


def test_it_refuses_to_win_twice_or_with_a_stale_version(
    client: TestClient, bob: Person, session: Session
) -> None:
    deal = make_deal(session)
    url = f"{DEALS}/{deal.id}/win"
    assert client.post(url, json=WIN, headers=bob.headers).status_code == 200
    again = client.post(url, json=WIN, headers=bob.headers)
    assert again.status_code == 409 and "already won" in again.json()["message"]
    other = make_deal(session)
    stale = client.post(f"{DEALS}/{other.id}/win", json=WIN | {"version": 7}, headers=bob.headers)
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 1


def test_it_refuses_bad_win_input(client: TestClient, bob: Person, session: Session) -> None:
    deal = make_deal(session)
    url = f"{DEALS}/{deal.id}/win"
    cases = [
        (WIN | {"mrr": 80000.0}, "mrr"),
        (WIN | {"mrr": -1}, "mrr"),
        (WIN | {"account_id": 999_999}, "account_id"),
        (WIN | {"account_id": 2**40}, "account_id"),
        (WIN | {"end_date": "2025-01-01"}, "body"),
        (WIN | {"plan": "a\x00b"}, "plan"),
        ({k: v for k, v in WIN.items() if k != "plan"}, "plan"),
        (WIN | {"unknown": 1}, "unknown"),
    ]
    for body, field in cases:
        response = client.post(url, json=body, headers=bob.headers)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.text)
    assert client.post(f"{DEALS}/999999/win", json=WIN, headers=bob.headers).status_code == 404
    linked = make_deal(session, company_name=None, account_id=make_account(session).id)
    with_domain = WIN | {"domains": ["example.co.jp"]}
    response = client.post(f"{DEALS}/{linked.id}/win", json=with_domain, headers=bob.headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "domains"
    assert client.get(f"{DEALS}/{deal.id}", headers=bob.headers).json()["contract_id"] is None
    assert client.get(f"{DEALS}/{deal.id}", headers=bob.headers).json()["stage_key"] == "inquiry"


def test_a_won_deal_stays_with_its_contract(
    client: TestClient, bob: Person, alice: Person, session: Session
) -> None:
    deal = make_deal(session)
    won = client.post(f"{DEALS}/{deal.id}/win", json=WIN, headers=bob.headers).json()
    url = f"{DEALS}/{deal.id}"
    version = won["deal"]["version"]
    lose = {"version": version, "stage_key": "lost", "lost_reason_key": "price"}
    refused = client.patch(url, json=lose, headers=bob.headers)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "stage_key"
    assert f"contract {won['contract_id']}" in refused.json()["errors"][0]["message"]
    other = make_account(session, name="別会社株式会社")
    moved = client.patch(
        url, json={"version": version, "account_id": other.id}, headers=bob.headers
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "account_id"
    relabel = client.patch(url, json={"version": version, "title": "受注済み"}, headers=bob.headers)
    assert relabel.status_code == 200, relabel.text
    contract_url = f"/api/v1/contracts/{won['contract_id']}?confirm=true"
    assert client.delete(contract_url, headers=alice.headers).status_code == 204
    session.expire_all()  # the database released the deal (ON DELETE SET NULL)
    reopen = {"version": relabel.json()["version"], "stage_key": "inquiry"}
    reopened = client.patch(url, json=reopen, headers=bob.headers)
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["contract_id"], reopened.json()["closed_date"]) == (None, None)
