"""Accounts through the service: CRUD, every filter, locking, confirmed deletes, the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact, ExternalId
from banso.accounts.schemas import AccountPatch
from banso.accounts.service import (
    AccountFilter,
    account_out,
    delete_account,
    get_account,
    list_accounts,
    update_account,
)
from banso.audit.service import history
from banso.contracts.models import Contract
from banso.deals.models import Deal
from banso.errors import ConfirmationRequired, Conflict, InvalidInput, NotFound
from tests.conftest import Person
from tests.factories import make_account, make_contact, make_contract

OLD = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class FilterCases:
    """Four accounts that differ in every filterable field."""

    abc: Account
    globex: Account
    kaiyaku: Account
    sakura: Account

    def names(self, accounts: list[Account]) -> set[str]:
        return {a.name for a in accounts}


def seed_filter_cases(session: Session, alice: Person, bob: Person) -> FilterCases:
    abc = make_account(
        session,
        name="株式会社ＡＢＣ",
        name_kana="エービーシー",
        segment="SMB",
        industry="飲食",
        company_size="10-49",
        source="web",
        lifecycle_stage="stable",
        owner_id=bob.user.id,
        tags=["重要", "renewal_2025"],
        domains=["abc.co.jp"],
        external_ids={"salesforce": "001A"},
    )
    globex = make_account(
        session,
        name="Globex Corporation",
        segment="Enterprise",
        industry="IT",
        company_size="1000+",
        source="event",
        lifecycle_stage="considering",
        owner_id=alice.user.id,
        tags=["VIP"],
        domains=["globex.com", "globex.co.jp"],
        external_ids={"hubspot": "h-2", "salesforce": "001B"},
    )
    kaiyaku = make_account(
        session, name="解約予定商事 100%_off", segment="SMB", industry="小売", tags=["重要"]
    )
    sakura = make_account(
        session, name="さくら食堂", name_kana="サクラショクドウ", industry="飲食", source="web"
    )
    mrr = {abc.id: 30_000, globex.id: 500_000, kaiyaku.id: 0, sakura.id: 12_000}
    for account_id, value in mrr.items():
        changes: dict[str, Any] = {"mrr": value}
        if account_id in (kaiyaku.id, sakura.id):
            changes["updated_at"] = OLD
        session.execute(update(Account).where(Account.id == account_id).values(**changes))
    session.flush()
    session.expire_all()
    return FilterCases(abc, globex, kaiyaku, sakura)


# (filter fields, expected account attributes of FilterCases); owner ids are filled in later.
FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"q": "ＡＢＣ"}, {"abc"}),
    ({"q": "abc"}, {"abc"}),  # the normalised name: width and case do not matter
    ({"q": "ABC"}, {"abc"}),
    ({"q": "(株)abc"}, {"abc"}),  # nor the legal form
    ({"q": "エービー"}, {"abc"}),  # kana reading
    ({"q": "しょくどう"}, {"sakura"}),  # hiragana finds a katakana reading
    ({"q": "さくら"}, {"sakura"}),
    ({"q": "サクラ"}, {"sakura"}),  # katakana finds the hiragana name through the key
    ({"q": "解約"}, {"kaiyaku"}),  # two Japanese characters are enough
    ({"q": "globex"}, {"globex"}),  # English, any case
    ({"q": "GLOBEX corp"}, {"globex"}),
    ({"q": "100%"}, {"kaiyaku"}),  # LIKE wildcards are plain characters
    ({"q": "%"}, {"kaiyaku"}),
    ({"q": "_"}, {"kaiyaku"}),
    ({"q": "nothing like it"}, set()),
    ({"segment": "SMB"}, {"abc", "kaiyaku"}),
    ({"segment": "smb"}, set()),
    ({"industry": "飲食"}, {"abc", "sakura"}),
    ({"company_size": "1000+"}, {"globex"}),
    ({"source": "web"}, {"abc", "sakura"}),
    ({"lifecycle_stage": "considering"}, {"globex"}),
    ({"owner_id": "bob"}, {"abc"}),
    ({"owner_id": "alice"}, {"globex"}),
    ({"tag": "重要"}, {"abc", "kaiyaku"}),
    ({"tag": "VIP"}, {"globex"}),
    ({"tag": "vip"}, set()),
    ({"domain": "globex.co.jp"}, {"globex"}),
    ({"domain": "https://www.ABC.co.jp/contact"}, {"abc"}),
    ({"mrr_min": 12_000}, {"abc", "globex", "sakura"}),
    ({"mrr_max": 12_000}, {"kaiyaku", "sakura"}),
    ({"mrr_min": 10_000, "mrr_max": 30_000}, {"abc", "sakura"}),
    ({"mrr_min": 30_001, "mrr_max": 29_999}, set()),
    ({"updated_since": datetime(2025, 1, 1, tzinfo=UTC)}, {"abc", "globex"}),
    (
        {"updated_since": datetime(2023, 12, 31, 15, tzinfo=UTC)},
        {"abc", "globex", "kaiyaku", "sakura"},
    ),
    ({"external_system": "salesforce", "external_id": "001B"}, {"globex"}),
    ({"external_system": "hubspot", "external_id": "001B"}, set()),
    ({"external_id": "001A"}, {"abc"}),  # any system
    ({"external_system": "salesforce"}, {"abc", "globex"}),  # has an id there
    ({"segment": "SMB", "industry": "飲食", "tag": "重要"}, {"abc"}),
]


def resolve(fields: dict[str, Any], alice: Person, bob: Person) -> dict[str, Any]:
    people = {"alice": alice.user.id, "bob": bob.user.id}
    return {k: people.get(v, v) if k == "owner_id" else v for k, v in fields.items()}


def expected(cases: FilterCases, keys: set[str]) -> set[str]:
    return {getattr(cases, k).name for k in keys}


@pytest.mark.parametrize(("fields", "keys"), FILTER_CASES)
def test_it_filters_accounts_on_every_field(
    session: Session, alice: Person, bob: Person, fields: dict[str, Any], keys: set[str]
) -> None:
    cases = seed_filter_cases(session, alice, bob)
    found = list_accounts(session, AccountFilter(**resolve(fields, alice, bob))).items
    assert cases.names(found) == expected(cases, keys)


def test_it_refuses_an_updated_since_without_a_timezone(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_accounts(session, AccountFilter(updated_since=datetime(2025, 1, 1)))
    assert caught.value.errors[0].field == "updated_since"
    assert "+09:00" in caught.value.errors[0].message


@pytest.mark.parametrize("field", ["q", "segment", "tag", "domain", "external_id", "industry"])
def test_it_refuses_a_nul_in_a_filter(session: Session, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_accounts(session, AccountFilter(**{field: "a\x00b"}))
    assert caught.value.errors[0].field == field
    assert "NUL" in caught.value.errors[0].message


def test_it_refuses_a_domain_filter_that_is_not_a_domain(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_accounts(session, AccountFilter(domain="not a domain"))
    assert caught.value.errors[0].field == "domain"


def test_it_reads_back_what_it_created(session: Session, bob: Person) -> None:
    account = make_account(
        session, name="株式会社ＡＢＣ商事", domains=["https://www.abc.co.jp/"], tags=["b", "a", "b"]
    )
    out = account_out(session, get_account(session, account.id))
    assert out.name == "株式会社ＡＢＣ商事"
    assert out.domains == ["abc.co.jp"]
    assert out.tags == ["a", "b"]
    assert out.version == 1
    assert out.mrr == 0


def test_it_changes_only_the_fields_sent(session: Session, bob: Person) -> None:
    account = make_account(session, segment="SMB", industry="IT", tags=["keep"], domains=["a.jp"])
    patch = AccountPatch(version=1, industry="飲食", domains=["a.jp", "b.jp"], tags=["keep", "new"])
    changed = update_account(session, bob.actor, account.id, patch)
    out = account_out(session, changed)
    assert (out.segment, out.industry) == ("SMB", "飲食")
    assert out.domains == ["a.jp", "b.jp"]
    assert out.tags == ["keep", "new"]
    assert out.version == 2


def test_it_clears_a_field_sent_as_null(session: Session, bob: Person) -> None:
    account = make_account(session, segment="SMB", owner_id=bob.user.id)
    patch = AccountPatch.model_validate({"version": 1, "segment": None, "owner_id": None})
    out = account_out(session, update_account(session, bob.actor, account.id, patch))
    assert out.segment is None and out.owner_id is None


def test_it_refuses_a_null_name(session: Session, bob: Person) -> None:
    account = make_account(session)
    with pytest.raises(InvalidInput) as caught:
        update_account(session, bob.actor, account.id, AccountPatch(version=1, name=None))
    assert caught.value.errors[0].field == "name"


def test_it_refuses_a_stale_version_and_keeps_the_newer_change(
    session: Session, alice: Person, bob: Person
) -> None:
    account = make_account(session, segment="SMB")
    update_account(session, alice.actor, account.id, AccountPatch(version=1, segment="Mid"))
    with pytest.raises(Conflict) as caught:
        update_account(session, bob.actor, account.id, AccountPatch(version=1, segment="Ent"))
    assert caught.value.current is not None
    assert caught.value.current["segment"] == "Mid"
    assert caught.value.current["version"] == 2
    assert "reload" in str(caught.value)
    assert get_account(session, account.id).segment == "Mid"
    assert [e.action for e in history(session, "account", account.id)] == ["create", "update"]


def _deal(session: Session, account: Account) -> Deal:
    deal = Deal(title="追加ライセンス", account_id=account.id, stage_key="inquiry")
    session.add(deal)
    session.flush()
    return deal


def test_it_deletes_nothing_without_confirmation_and_says_what_would_go(
    session: Session, bob: Person
) -> None:
    account = make_account(session, external_ids={"salesforce": "001DEL"})
    make_contact(session, account)
    make_contact(session, account, name="佐藤 花子")
    make_contract(session, account)
    _deal(session, account)
    with pytest.raises(ConfirmationRequired) as caught:
        delete_account(session, bob.actor, account.id, confirm=False)
    assert caught.value.impact == {"contacts": 2, "contracts": 1, "deals": 1}
    assert "2 contacts" in str(caught.value)
    assert get_account(session, account.id).name == "株式会社テスト"
    assert session.scalar(select(func.count()).where(Contact.account_id == account.id)) == 2
    assert [e.action for e in history(session, "account", account.id)] == ["create"]


def test_it_deletes_with_confirmation_and_keeps_the_before_in_the_audit_log(
    session: Session, bob: Person
) -> None:
    account = make_account(session, segment="SMB", external_ids={"salesforce": "001DEL"})
    contact = make_contact(session, account)
    contract = make_contract(session, account)
    deal = _deal(session, account)
    ids = (account.id, contact.id, contract.id, deal.id)
    impact = delete_account(session, bob.actor, account.id, confirm=True)
    assert impact == {"contacts": 1, "contracts": 1, "deals": 1}
    session.expire_all()
    account_id, contact_id, contract_id, deal_id = ids
    with pytest.raises(NotFound):
        get_account(session, account_id)
    assert session.scalar(select(Contact.id).where(Contact.id == contact_id)) is None
    assert session.scalar(select(Contract.id).where(Contract.id == contract_id)) is None
    assert session.get_one(Deal, deal_id).account_id is None
    assert session.scalar(select(func.count()).where(ExternalId.value == "001DEL")) == 0
    entry = history(session, "account", account_id)[-1]
    assert (entry.action, entry.actor, entry.actor_user_id) == (
        "delete",
        bob.actor.label,
        bob.user.id,
    )
    assert entry.after is None
    assert entry.before is not None
    assert entry.before["segment"] == "SMB"
    assert entry.before["external_ids"] == {"salesforce": "001DEL"}
    assert entry.before["contact_ids"] == [contact_id]
    assert entry.before["contract_ids"] == [contract_id]


def test_it_says_which_account_a_merged_one_went_to(session: Session) -> None:
    from banso.accounts.models import AccountMerge

    target = make_account(session, name="残る会社")
    session.add(
        AccountMerge(
            source_account_id=99_999,
            target_account_id=target.id,
            actor="t",
            source_snapshot={},
            moved={},
        )
    )
    session.flush()
    with pytest.raises(NotFound) as caught:
        get_account(session, 99_999)
    assert f"merged into account {target.id}" in str(caught.value)


@pytest.mark.parametrize("account_id", [0, -1, 2**31, 2**63, 10**30])
def test_it_says_not_found_for_any_missing_id(session: Session, account_id: int) -> None:
    with pytest.raises(NotFound):
        get_account(session, account_id)


def test_it_audits_every_change_with_actor_before_and_after(
    session: Session, alice: Person, bob: Person
) -> None:
    from banso.accounts.schemas import AccountIn
    from banso.accounts.service import create_account

    account = create_account(session, bob.actor, AccountIn(name="監査 株式会社", segment="SMB"))
    update_account(session, alice.actor, account.id, AccountPatch(version=1, segment="Mid"))
    delete_account(session, alice.actor, account.id, confirm=True)
    entries = history(session, "account", account.id)
    assert [(e.action, e.actor_user_id) for e in entries] == [
        ("create", bob.user.id),
        ("update", alice.user.id),
        ("delete", alice.user.id),
    ]
    create, change, gone = entries
    assert create.before is None and create.after is not None
    assert create.after["name"] == "監査 株式会社"
    assert change.before is not None and change.after is not None
    assert (change.before["segment"], change.after["segment"]) == ("SMB", "Mid")
    assert (change.before["version"], change.after["version"]) == (1, 2)
    assert gone.before is not None and gone.before["segment"] == "Mid"
    assert gone.after is None
    assert [e.actor for e in entries] == [bob.actor.label, alice.actor.label, alice.actor.label]
