from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition
from banso.accounts.merge import merge_accounts, merge_contacts
from banso.accounts.models import AccountMerge, Contact
from banso.accounts.resolution import resolve_account, resolve_contact
from banso.accounts.schemas import AccountPatch
from banso.accounts.service import get_account, get_contact, update_account
from banso.audit.service import history
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.schemas import MovementIn
from banso.contracts.service import mrr_on, record_movement
from banso.deals.models import Deal
from banso.errors import Conflict, InvalidInput, NotFound
from tests.deals.factories import make_deal
from tests.factories import SYSTEM, make_account, make_contact, make_contract

DATES = [date(2024, 12, 31), date(2025, 2, 1), date(2025, 4, 1), date(2025, 7, 1), date(2026, 1, 1)]


@dataclass
class Pair:
    source_id: int
    target_id: int
    contact_id: int
    contract_id: int
    deal_id: int


def _define(session: Session, entity: str = "account") -> None:
    for key in ("plan_type", "region"):
        create_definition(
            session,
            SYSTEM,
            CustomFieldIn(entity=entity, key=key, type="text", label_ja=key, label_en=key),
        )


def _pair(session: Session) -> Pair:
    _define(session)
    target = make_account(
        session,
        name="株式会社ＡＢＣ",
        segment="SMB",
        domains=["abc.co.jp", "shared.jp"],
        tags=["既存", "重点"],
        custom={"plan_type": "Gold"},
        external_ids={"salesforce": "001T"},
    )
    source = make_account(
        session,
        name="(株)ABC",
        name_kana="エービーシー",
        segment="Mid-Market",
        industry="小売",
        domains=["abc.jp", "shared.jp"],
        tags=["旧CRM", "重点"],
        custom={"plan_type": "Silver", "region": "関東"},
        external_ids={"old_crm": "OLD-1"},
    )
    contact = make_contact(session, source, email="a@abc.jp")
    contract = make_contract(
        session, source, mrr=30_000, start_date=date(2025, 1, 1), end_date=None
    )
    record_movement(
        session,
        SYSTEM,
        contract.id,
        MovementIn(kind="expansion", effective_date=date(2025, 6, 1), mrr=45_000),
    )
    make_contract(session, target, mrr=10_000, start_date=date(2025, 3, 1), end_date=None)
    deal = make_deal(session, account_id=source.id, company_name=None)
    return Pair(source.id, target.id, contact.id, contract.id, deal.id)


def test_preview_says_what_moves_and_changes_nothing(session: Session) -> None:
    pair = _pair(session)
    movements = list(
        session.scalars(
            select(ContractMovement.id)
            .where(ContractMovement.account_id == pair.source_id)
            .order_by(ContractMovement.id)
        )
    )
    plan = merge_accounts(session, SYSTEM, pair.source_id, pair.target_id, preview=True)
    assert plan["contacts"] == [pair.contact_id]
    assert plan["contracts"] == [pair.contract_id]
    assert plan["movements"] == movements and len(movements) == 2
    assert plan["deals"] == [pair.deal_id]
    assert plan["external_ids"] == [{"system": "old_crm", "value": "OLD-1"}]
    assert plan["domains"] == ["abc.jp"] and plan["tags"] == ["旧CRM"]
    assert plan["fill"] == {"name_kana": "エービーシー", "industry": "小売"}
    assert plan["custom_fill"] == {"region": "関東"}
    assert plan["conflicts"] == {
        "name": {"kept": "株式会社ＡＢＣ", "source": "(株)ABC"},
        "segment": {"kept": "SMB", "source": "Mid-Market"},
        "custom.plan_type": {"kept": "Gold", "source": "Silver"},
    }
    expected = {
        "contacts": 1,
        "contracts": 1,
        "movements": 2,
        "deals": 1,
        "earlier_merges": 0,
        "external_ids": 1,
        "domains": 1,
        "tags": 1,
    }
    # Every other table that refers to accounts (usage, metrics, ...) has nothing to move here.
    assert {k: v for k, v in plan["counts"].items() if k in expected} == expected
    assert not any(v for k, v in plan["counts"].items() if k not in expected)
    assert plan["source"]["version"] == get_account(session, pair.source_id).version
    assert plan["target"]["version"] == get_account(session, pair.target_id).version
    assert get_account(session, pair.source_id).name == "(株)ABC"
    assert session.get(Contact, pair.contact_id).account_id == pair.source_id  # type: ignore[union-attr]


def test_it_moves_everything_and_keeps_the_totals(session: Session) -> None:
    pair = _pair(session)
    totals = [mrr_on(session, d) for d in DATES]
    per_account = [
        mrr_on(session, d, account_id=pair.source_id)
        + mrr_on(session, d, account_id=pair.target_id)
        for d in DATES
    ]
    merge_accounts(session, SYSTEM, pair.source_id, pair.target_id, preview=False)

    target = get_account(session, pair.target_id)
    assert [d.domain for d in target.domains] == ["abc.co.jp", "abc.jp", "shared.jp"]
    assert {t.tag for t in target.tags} == {"旧CRM", "既存", "重点"} and len(target.tags) == 3
    assert (target.name, target.name_kana, target.segment, target.industry) == (
        "株式会社ＡＢＣ",
        "エービーシー",
        "SMB",
        "小売",
    )
    assert target.custom == {"plan_type": "Gold", "region": "関東"}
    assert target.mrr == 55_000
    assert [mrr_on(session, d) for d in DATES] == totals
    assert [mrr_on(session, d, account_id=pair.target_id) for d in DATES] == per_account
    assert session.get(Contact, pair.contact_id).account_id == pair.target_id  # type: ignore[union-attr]
    assert session.get(Contract, pair.contract_id).account_id == pair.target_id  # type: ignore[union-attr]
    assert session.get(Deal, pair.deal_id).account_id == pair.target_id  # type: ignore[union-attr]
    left = session.scalar(
        select(func.count())
        .select_from(ContractMovement)
        .where(ContractMovement.account_id == pair.source_id)
    )
    assert left == 0
    for external in (("old_crm", "OLD-1"), ("salesforce", "001T")):
        match = resolve_account(session, external=external)
        assert match is not None and match.id == pair.target_id


def test_it_keeps_every_source_value_and_says_where_it_went(session: Session) -> None:
    pair = _pair(session)
    merge_accounts(session, SYSTEM, pair.source_id, pair.target_id, preview=False)
    with pytest.raises(NotFound, match=f"merged into account {pair.target_id}"):
        get_account(session, pair.source_id)
    row = session.scalar(
        select(AccountMerge).where(AccountMerge.source_account_id == pair.source_id)
    )
    assert row is not None and row.target_account_id == pair.target_id
    snapshot = row.source_snapshot
    assert (snapshot["name"], snapshot["segment"]) == ("(株)ABC", "Mid-Market")
    assert snapshot["custom"] == {"plan_type": "Silver", "region": "関東"}
    assert snapshot["external_ids"] == {"old_crm": "OLD-1"}
    assert row.moved["contacts"] == [pair.contact_id]
    assert row.moved["conflicts"]["segment"] == {"kept": "SMB", "source": "Mid-Market"}
    assert [e.action for e in history(session, "account", pair.source_id)][-1] == "merge"
    target_entry = history(session, "account", pair.target_id)[-1]
    assert target_entry.action == "merge" and target_entry.after["merged_from"] == pair.source_id  # type: ignore[index]


def test_moved_records_get_a_new_version(session: Session) -> None:
    pair = _pair(session)
    before = get_contact(session, pair.contact_id).version
    target_before = get_account(session, pair.target_id).version
    merge_accounts(session, SYSTEM, pair.source_id, pair.target_id, preview=False)
    assert get_contact(session, pair.contact_id).version == before + 1
    assert get_account(session, pair.target_id).version == target_before + 1


def test_a_chain_of_merges_points_at_the_last_account(session: Session) -> None:
    a, b, c = (make_account(session, name=f"チェーン{n}") for n in range(3))
    merge_accounts(session, SYSTEM, a.id, b.id, preview=False)
    merge_accounts(session, SYSTEM, b.id, c.id, preview=False)
    for gone in (a.id, b.id):
        with pytest.raises(NotFound, match=f"merged into account {c.id}"):
            get_account(session, gone)
    rows = session.scalars(select(AccountMerge).order_by(AccountMerge.id)).all()
    plan = merge_accounts(session, SYSTEM, c.id, make_account(session, name="次").id, preview=True)
    assert plan["counts"]["earlier_merges"] == 2
    assert [(r.source_account_id, r.target_account_id) for r in rows] == [
        (a.id, c.id),
        (b.id, c.id),
    ]


def test_it_refuses_to_merge_into_itself_or_nowhere(session: Session) -> None:
    account = make_account(session)
    with pytest.raises(InvalidInput, match="itself") as caught:
        merge_accounts(session, SYSTEM, account.id, account.id, preview=False)
    assert caught.value.errors[0].field == "into"
    with pytest.raises(NotFound, match="account 999999 does not exist"):
        merge_accounts(session, SYSTEM, account.id, 999_999, preview=False)
    with pytest.raises(NotFound, match="account 999999 does not exist"):
        merge_accounts(session, SYSTEM, 999_999, account.id, preview=True)
    for huge in (0, -1, 2**31, 10**20):
        with pytest.raises(NotFound):
            merge_accounts(session, SYSTEM, account.id, huge, preview=True)
    assert get_account(session, account.id).version == 1


def test_it_refuses_a_merge_into_an_account_already_merged(session: Session) -> None:
    a, b, c = (make_account(session, name=f"統合{n}") for n in range(3))
    merge_accounts(session, SYSTEM, a.id, b.id, preview=False)
    with pytest.raises(NotFound, match=f"merged into account {b.id}"):
        merge_accounts(session, SYSTEM, c.id, a.id, preview=True)
    with pytest.raises(NotFound, match=f"merged into account {b.id}"):
        merge_accounts(session, SYSTEM, a.id, c.id, preview=False)


def test_it_refuses_a_merge_of_records_changed_since_the_preview(session: Session) -> None:
    pair = _pair(session)
    plan = merge_accounts(session, SYSTEM, pair.source_id, pair.target_id, preview=True)
    current = plan["target"]["version"]
    update_account(
        session, SYSTEM, pair.target_id, AccountPatch(version=current, segment="Enterprise")
    )
    with pytest.raises(Conflict, match="changed since the preview"):
        merge_accounts(
            session,
            SYSTEM,
            pair.source_id,
            pair.target_id,
            preview=False,
            source_version=plan["source"]["version"],
            target_version=plan["target"]["version"],
        )
    assert get_account(session, pair.source_id).name == "(株)ABC"
    assert session.get(Contact, pair.contact_id).account_id == pair.source_id  # type: ignore[union-attr]


def test_it_merges_contacts(session: Session) -> None:
    _define(session, "contact")
    account = make_account(session)
    other = make_account(session, name="別会社")
    keep = make_contact(
        session, account, name="山田 太郎", email="taro@example.jp", custom={"region": "関西"}
    )
    drop = make_contact(
        session,
        other,
        name="山田太郎",
        email="yamada@example.jp",
        phone="03-1234-5678",
        is_key_person=True,
        custom={"region": "関東", "plan_type": "Gold"},
        external_ids={"hubspot": "9"},
    )
    deal = make_deal(session, account_id=other.id, contact_id=drop.id, company_name=None)
    plan = merge_contacts(session, SYSTEM, drop.id, keep.id, preview=True)
    assert plan["deals"] == [deal.id]
    assert plan["fill"] == {"phone": "03-1234-5678", "is_key_person": True}
    assert plan["conflicts"]["email"] == {"kept": "taro@example.jp", "source": "yamada@example.jp"}
    assert plan["conflicts"]["account_id"] == {"kept": account.id, "source": other.id}
    assert plan["custom_fill"] == {"plan_type": "Gold"}

    merge_contacts(session, SYSTEM, drop.id, keep.id, preview=False)
    kept = get_contact(session, keep.id)
    assert (kept.phone, kept.is_key_person, kept.email) == ("03-1234-5678", True, "taro@example.jp")
    assert kept.custom == {"region": "関西", "plan_type": "Gold"} and kept.account_id == account.id
    assert session.get(Deal, deal.id).contact_id == keep.id  # type: ignore[union-attr]
    match = resolve_contact(session, external=("hubspot", "9"))
    assert match is not None and match.id == keep.id
    with pytest.raises(NotFound):
        get_contact(session, drop.id)
    gone = history(session, "contact", drop.id)[-1]
    assert gone.action == "merge" and gone.before["email"] == "yamada@example.jp"  # type: ignore[index]


def test_a_contact_without_an_email_gains_one(session: Session) -> None:
    account = make_account(session)
    keep = make_contact(session, account, name="佐藤 花子")
    drop = make_contact(session, account, name="佐藤花子", email="Hanako@Example.jp")
    merge_contacts(session, SYSTEM, drop.id, keep.id, preview=False)
    match = resolve_contact(session, email="hanako@example.jp")
    assert match is not None and match.id == keep.id


def test_it_refuses_bad_contact_merges(session: Session) -> None:
    account = make_account(session)
    contact = make_contact(session, account)
    other = make_contact(session, account, name="別人")
    with pytest.raises(InvalidInput, match="itself"):
        merge_contacts(session, SYSTEM, contact.id, contact.id, preview=True)
    with pytest.raises(NotFound):
        merge_contacts(session, SYSTEM, contact.id, 999_999, preview=False)
    with pytest.raises(Conflict, match="changed since the preview"):
        merge_contacts(session, SYSTEM, contact.id, other.id, preview=False, source_version=7)
    assert get_contact(session, contact.id).name == "山田 太郎"
