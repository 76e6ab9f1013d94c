from __future__ import annotations

from sqlalchemy.orm import Session

from banso.accounts.resolution import (
    AccountEvidence,
    find_duplicate_accounts,
    find_duplicate_contacts,
    resolve_account,
    resolve_accounts_bulk,
    resolve_contact,
)
from tests.factories import make_account, make_contact


def test_it_resolves_by_the_strongest_evidence(session: Session) -> None:
    sakura = make_account(
        session,
        name="株式会社さくらフーズ",
        domains=["sakura-foods.co.jp"],
        external_ids={"salesforce": "001A"},
    )
    other = make_account(session, name="株式会社みどり商店", domains=["midori.jp"])
    make_contact(session, other, email="buyer@midori.jp")

    by_id = resolve_account(session, external=("salesforce", "001A"), name="株式会社みどり商店")
    assert by_id is not None and (by_id.id, by_id.reason) == (sakura.id, "external_id")
    by_email = resolve_account(session, email="BUYER@midori.jp")
    assert by_email is not None and (by_email.id, by_email.reason) == (other.id, "email")
    by_domain = resolve_account(session, email="new.person@sakura-foods.co.jp")
    assert by_domain is not None and (by_domain.id, by_domain.reason) == (sakura.id, "domain")
    by_name = resolve_account(session, name="(株)サクラフーズ")
    assert by_name is not None and (by_name.id, by_name.reason) == (sakura.id, "name")
    assert resolve_account(session, name="存在しない会社") is None


def test_free_mail_never_matches_by_domain(session: Session) -> None:
    make_account(session, name="Gmail Fans", domains=["gmail.com"])
    assert resolve_account(session, email="someone@gmail.com") is None


def test_a_shared_name_is_ambiguous_and_lists_the_candidates(session: Session) -> None:
    a = make_account(session, name="株式会社ひかり")
    b = make_account(session, name="ひかり株式会社")
    match = resolve_account(session, name="(株)ヒカリ")
    assert match is not None and match.ambiguous
    assert set(match.candidates) == {a.id, b.id}


def test_it_resolves_many_records_at_once(session: Session) -> None:
    accounts = [
        make_account(session, name=f"テスト{n}株式会社", domains=[f"t{n}.co.jp"]) for n in range(30)
    ]
    records = [AccountEvidence(email=f"x@t{n}.co.jp") for n in range(30)] + [
        AccountEvidence(name="無名")
    ]
    matches = resolve_accounts_bulk(session, records)
    assert [m.id if m else None for m in matches] == [a.id for a in accounts] + [None]


def test_it_resolves_contacts(session: Session) -> None:
    account = make_account(session, name="連絡先テスト")
    contact = make_contact(
        session, account, email="Hanako@Example.co.jp", external_ids={"hubspot": "77"}
    )
    assert resolve_contact(session, external=("hubspot", "77")).id == contact.id  # type: ignore[union-attr]
    match = resolve_contact(session, email="hanako@example.co.jp", account_id=account.id)
    assert match is not None and match.reason == "email" and match.id == contact.id


def test_it_lists_duplicate_accounts_with_reasons(session: Session) -> None:
    a = make_account(session, name="株式会社ＡＢＣ商事", name_kana="エービーシーショウジ")
    b = make_account(session, name="(株)abc商事", name_kana="エービーシー ショウジ")
    c = make_account(session, name="別会社", domains=["abc-shoji.jp"])
    d = make_account(session, name="別会社2", domains=["abc-shoji.jp"])
    make_account(session, name="無関係")
    pairs = {(p.first_id, p.second_id): p for p in find_duplicate_accounts(session)}
    assert set(pairs[(a.id, b.id)].reasons) == {"same_name", "same_reading"}
    assert pairs[(c.id, d.id)].reasons == ["same_domain"]
    assert len(pairs) == 2


def test_it_lists_duplicate_contacts(session: Session) -> None:
    account = make_account(session)
    x = make_contact(session, account, name="山田 太郎", email="taro@example.jp")
    y = make_contact(session, account, name="山田　太郎")
    z = make_contact(
        session, make_account(session, name="他社"), name="別人", email="TARO@example.jp"
    )
    pairs = {(p.first_id, p.second_id): p.reasons for p in find_duplicate_contacts(session)}
    assert pairs[(x.id, y.id)] == ["same_name_in_account"]
    assert pairs[(x.id, z.id)] == ["same_email"]
