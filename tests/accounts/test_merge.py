from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.merge import merge_accounts, merge_contacts
from banso.accounts.models import AccountMerge, Contact
from banso.accounts.resolution import resolve_account
from banso.accounts.service import get_account
from banso.audit.service import history
from banso.contracts.schemas import MovementIn
from banso.contracts.service import mrr_on, record_movement
from banso.errors import InvalidInput, NotFound
from tests.conftest import Person
from tests.factories import SYSTEM, make_account, make_contact, make_contract


def _pair(session: Session) -> tuple[int, int]:
    target = make_account(
        session, name="株式会社ＡＢＣ", segment="SMB", domains=["abc.co.jp"], tags=["既存"]
    )
    source = make_account(
        session,
        name="(株)ABC",
        name_kana="エービーシー",
        segment="Mid-Market",
        domains=["abc.jp"],
        tags=["旧CRM"],
        external_ids={"old_crm": "OLD-1"},
    )
    make_contact(session, source, email="a@abc.jp")
    contract = make_contract(session, source, mrr=30_000, start_date=date(2025, 1, 1))
    record_movement(
        session,
        SYSTEM,
        contract.id,
        MovementIn(kind="expansion", effective_date=date(2025, 6, 1), mrr=45_000),
    )
    make_contract(session, target, mrr=10_000, start_date=date(2025, 3, 1))
    return source.id, target.id


def test_preview_changes_nothing(session: Session) -> None:
    source_id, target_id = _pair(session)
    plan = merge_accounts(session, SYSTEM, source_id, target_id, preview=True)
    assert len(plan["contacts"]) == 1 and len(plan["contracts"]) == 1 and plan["movements"] == 2
    assert plan["domains"] == ["abc.jp"] and plan["tags"] == ["旧CRM"]
    assert plan["fill"] == {"name_kana": "エービーシー"}
    assert plan["conflicts"]["segment"] == {"kept": "SMB", "source": "Mid-Market"}
    assert get_account(session, source_id).name == "(株)ABC"


def test_it_moves_everything_and_keeps_history(session: Session) -> None:
    source_id, target_id = _pair(session)
    totals = [mrr_on(session, d) for d in (date(2025, 2, 1), date(2025, 7, 1))]
    merge_accounts(session, SYSTEM, source_id, target_id, preview=False)

    target = get_account(session, target_id)
    assert sorted(d.domain for d in target.domains) == ["abc.co.jp", "abc.jp"]
    assert target.name_kana == "エービーシー" and target.segment == "SMB"
    assert target.mrr == 55_000
    assert [mrr_on(session, d) for d in (date(2025, 2, 1), date(2025, 7, 1))] == totals
    assert mrr_on(session, date(2025, 7, 1), account_id=target_id) == 55_000
    assert (
        session.scalar(select(Contact.account_id).where(Contact.email == "a@abc.jp")) == target_id
    )
    match = resolve_account(session, external=("old_crm", "OLD-1"))
    assert match is not None and match.id == target_id
    with pytest.raises(NotFound, match=f"merged into account {target_id}"):
        get_account(session, source_id)
    merge_row = session.scalar(
        select(AccountMerge).where(AccountMerge.source_account_id == source_id)
    )
    assert merge_row is not None and merge_row.source_snapshot["segment"] == "Mid-Market"
    assert [e.action for e in history(session, "account", source_id)][-1] == "merge"


def test_it_refuses_to_merge_into_itself_or_nowhere(session: Session) -> None:
    account = make_account(session)
    with pytest.raises(InvalidInput, match="itself"):
        merge_accounts(session, SYSTEM, account.id, account.id, preview=True)
    with pytest.raises(NotFound):
        merge_accounts(session, SYSTEM, account.id, 999_999, preview=False)
    assert get_account(session, account.id)


def test_it_merges_contacts(session: Session) -> None:
    account = make_account(session)
    keep = make_contact(session, account, name="山田 太郎", email="taro@example.jp")
    drop = make_contact(
        session, account, name="山田太郎", phone="03-1234-5678", external_ids={"hubspot": "9"}
    )
    merge_contacts(session, SYSTEM, drop.id, keep.id, preview=False)
    assert keep.phone == "03-1234-5678"
    assert session.get(Contact, drop.id) is None


def test_the_api_previews_then_merges(
    client: TestClient, session: Session, bob: Person, charlie: Person
) -> None:
    source_id, target_id = _pair(session)
    url = f"/api/v1/accounts/{source_id}/merge"
    assert client.post(url, json={"into": target_id}, headers=charlie.headers).status_code == 403
    preview = client.post(url, json={"into": target_id}, headers=bob.headers)
    assert preview.status_code == 200 and preview.json()["merged"] is False
    assert client.post(url, json={"into": "x"}, headers=bob.headers).status_code == 422
    done = client.post(url, json={"into": target_id, "preview": False}, headers=bob.headers)
    assert done.status_code == 200 and done.json()["merged"] is True
    gone = client.get(f"/api/v1/accounts/{source_id}", headers=bob.headers)
    assert gone.status_code == 404 and "merged into" in gone.json()["message"]


def test_the_api_lists_duplicates_and_resolves(
    client: TestClient, session: Session, bob: Person
) -> None:
    a = make_account(session, name="株式会社さくら", domains=["sakura.co.jp"])
    b = make_account(session, name="さくら株式会社")
    listed = client.get("/api/v1/duplicates/accounts", headers=bob.headers).json()
    assert {"first_id": a.id, "second_id": b.id, "reasons": ["same_name"], "score": 50} in listed
    found = client.get(
        "/api/v1/resolve/account", params={"email": "x@sakura.co.jp"}, headers=bob.headers
    )
    assert found.json() == {"id": a.id, "reason": "domain", "candidates": []}
    missing = client.get("/api/v1/resolve/account", params={"name": "なし"}, headers=bob.headers)
    assert missing.status_code == 404
    empty = client.get("/api/v1/resolve/account", headers=bob.headers)
    assert empty.status_code == 422
