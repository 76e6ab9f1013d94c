from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, insert, update
from sqlalchemy.orm import Session

from banso.accounts.identity import normalize_company_name
from banso.accounts.models import Account, AccountDomain
from banso.accounts.resolution import (
    AccountEvidence,
    ContactEvidence,
    rekey_accounts,
    resolve_account,
    resolve_accounts_bulk,
    resolve_contact,
    resolve_contacts_bulk,
)
from banso.errors import InvalidInput
from tests.factories import make_account, make_contact


@contextmanager
def counted_queries(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(*args: Any) -> None:
        statements.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


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
    by_email = resolve_account(session, email="BUYER@midori.jp", name="さくらフーズ")
    assert by_email is not None and (by_email.id, by_email.reason) == (other.id, "email")
    by_domain = resolve_account(session, email="new.person@sakura-foods.co.jp")
    assert by_domain is not None and (by_domain.id, by_domain.reason) == (sakura.id, "domain")
    by_site = resolve_account(session, domain="https://www.Sakura-Foods.co.jp/company")
    assert by_site is not None and (by_site.id, by_site.reason) == (sakura.id, "domain")
    by_name = resolve_account(session, name="(株)ｻｸﾗﾌｰｽﾞ")
    assert by_name is not None and (by_name.id, by_name.reason) == (sakura.id, "name")
    assert resolve_account(session, name="存在しない会社") is None
    assert resolve_account(session, external=("salesforce", "unknown")) is None


def test_free_mail_never_matches_by_domain(session: Session) -> None:
    make_account(session, name="Gmail Fans", domains=["gmail.com"])
    make_account(session, name="ISP Fans", domains=["nifty.com"])
    assert resolve_account(session, email="someone@gmail.com") is None
    assert resolve_account(session, domain="gmail.com") is None
    assert resolve_account(session, email="old@mbh.nifty.com") is None


def test_a_shared_name_is_ambiguous_and_lists_the_candidates(session: Session) -> None:
    a = make_account(session, name="株式会社ひかり")
    b = make_account(session, name="ひかり株式会社")
    match = resolve_account(session, name="(株)ヒカリ")
    assert match is not None and match.ambiguous and match.reason == "ambiguous name"
    assert set(match.candidates) == {a.id, b.id}


def test_weaker_evidence_narrows_an_ambiguous_match(session: Session) -> None:
    a = make_account(session, name="株式会社ひかり", domains=["hikari.co.jp"])
    make_account(session, name="ひかり株式会社", domains=["hikari-sys.jp"])
    match = resolve_account(session, name="ヒカリ", email="new@hikari.co.jp")
    assert match is not None and (match.id, match.reason) == (a.id, "domain")
    # a shared address (two accounts' contacts) narrowed by the domain
    b = make_account(session, name="別会社", domains=["shared.jp"])
    c = make_account(session, name="別会社二", domains=["other.jp"])
    make_contact(session, b, email="info@shared.jp")
    make_contact(session, c, email="info@shared.jp")
    narrowed = resolve_account(session, email="info@shared.jp")
    assert narrowed is not None and (narrowed.id, narrowed.reason) == (b.id, "email+domain")


def test_contradicting_weaker_evidence_does_not_override(session: Session) -> None:
    a = make_account(session, name="株式会社あおば", domains=["aoba.jp"])
    make_account(session, name="株式会社みなと")
    match = resolve_account(session, email="x@aoba.jp", name="みなと")
    assert match is not None and (match.id, match.reason) == (a.id, "domain")


def test_it_resolves_thousands_of_records_in_a_handful_of_queries(session: Session) -> None:
    count = 3000
    rows = [{"name": f"テスト{n}株式会社", "name_key": f"てすと{n}"} for n in range(count)]
    inserted = session.execute(insert(Account).returning(Account.name_key, Account.id), rows)
    found = {name_key: account_id for name_key, account_id in inserted}
    session.execute(
        insert(AccountDomain),
        [{"account_id": found[f"てすと{n}"], "domain": f"t{n}.co.jp"} for n in range(count)],
    )
    records = (
        [AccountEvidence(email=f"x@t{n}.co.jp") for n in range(count)]
        + [AccountEvidence(name=f"(株)テスト{n}") for n in range(count)]
        + [AccountEvidence(name="無名", email="a@gmail.com", external=("sf", "none"))]
    )
    with counted_queries(session) as statements:
        matches = resolve_accounts_bulk(session, records)
    assert len(statements) <= 4
    expected = [found[f"てすと{n}"] for n in range(count)]
    assert [m.id if m else None for m in matches] == [*expected, *expected, None]
    assert {m.reason for m in matches[:count] if m} == {"domain"}
    assert {m.reason for m in matches[count:-1] if m} == {"name"}


def test_it_resolves_contacts(session: Session) -> None:
    account = make_account(session, name="連絡先テスト")
    other = make_account(session, name="別の会社")
    contact = make_contact(
        session, account, email="Hanako@Example.co.jp", external_ids={"hubspot": "77"}
    )
    twin = make_contact(session, other, email="hanako@example.co.jp")
    by_id = resolve_contact(session, external=("hubspot", "77"))
    assert by_id is not None and (by_id.id, by_id.reason) == (contact.id, "external_id")
    match = resolve_contact(session, email="ＨＡＮＡＫＯ@example.co.jp", account_id=account.id)
    assert match is not None and (match.id, match.reason) == (contact.id, "email")
    anywhere = resolve_contact(session, email="hanako@example.co.jp")
    assert anywhere is not None and anywhere.ambiguous
    assert set(anywhere.candidates) == {contact.id, twin.id}
    assert resolve_contact(session, email="nobody@example.co.jp") is None


def test_it_resolves_many_contacts_at_once(session: Session) -> None:
    account = make_account(session)
    people = [make_contact(session, account, email=f"p{n}@example.jp") for n in range(20)]
    records = [ContactEvidence(email=f"P{n}@example.jp") for n in range(20)]
    records.append(ContactEvidence(email="p1@example.jp", account_id=account.id + 1))
    with counted_queries(session) as statements:
        matches = resolve_contacts_bulk(session, records)
    assert len(statements) <= 2
    assert [m.id if m else None for m in matches] == [p.id for p in people] + [None]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "query"),
        ({"name": "   "}, "query"),
        ({"name": "abc\x00"}, "name"),
        ({"email": "\x00@x.jp"}, "email"),
        ({"external": ("sf", "1\x00")}, "external_id"),
        ({"domain": "not a domain"}, "domain"),
    ],
)
def test_it_refuses_queries_that_cannot_match(
    session: Session, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_account(session, **kwargs)
    assert caught.value.errors[0].field == field


def test_hostile_values_simply_do_not_match(session: Session) -> None:
    make_account(session, name="株式会社テスト")
    for value in (
        "'; DROP TABLE accounts; --",
        "<script>alert(1)</script>",
        "🍣" * 50,
        "x" * 10_000,
    ):
        assert resolve_account(session, name=value, email=f"{value}@example.jp") is None
    records = [AccountEvidence(name="bad\x00name", email="a\x00@b.jp", external=("s", "\x00"))]
    assert resolve_accounts_bulk(session, records) == [None]
    assert resolve_contacts_bulk(session, [ContactEvidence(email="\x00")]) == [None]
    with pytest.raises(InvalidInput):
        resolve_contact(session)


def test_rekey_updates_stale_normalised_names(session: Session) -> None:
    account = make_account(session, name="ｻｸﾗﾌｰｽﾞ株式会社")
    session.execute(update(Account).where(Account.id == account.id).values(name_key="stale"))
    version = session.get(Account, account.id).version  # type: ignore[union-attr]
    assert rekey_accounts(session) >= 1
    session.expire_all()
    refreshed = session.get(Account, account.id)
    assert refreshed is not None and refreshed.name_key == normalize_company_name("さくらフーズ")
    assert refreshed.version == version
    assert rekey_accounts(session) == 0
