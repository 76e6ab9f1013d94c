from __future__ import annotations

import time

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from banso.accounts.models import Account, AccountDomain, Contact
from banso.accounts.resolution import CROWDED, find_duplicate_accounts, find_duplicate_contacts
from banso.errors import InvalidInput
from tests.factories import make_account, make_contact


def _all_account_pairs(session: Session) -> dict[tuple[int, int], list[str]]:
    page = find_duplicate_accounts(session, limit=500)
    return {(p.first_id, p.second_id): p.reasons for p in page.items}


def test_it_lists_duplicate_accounts_with_reasons(session: Session) -> None:
    a = make_account(session, name="株式会社ＡＢＣ商事", name_kana="エービーシーショウジ")
    b = make_account(session, name="(株)abc商事", name_kana="ｴｰﾋﾞｰｼｰ ｼｮｳｼﾞ")
    c = make_account(session, name="別会社", domains=["abc-shoji.jp"])
    d = make_account(session, name="別会社2", domains=["abc-shoji.jp"])
    make_account(session, name="無関係", name_kana="ムカンケイ")
    pairs = _all_account_pairs(session)
    assert pairs[(a.id, b.id)] == ["same_name", "same_reading"]
    assert pairs[(c.id, d.id)] == ["same_domain"]
    assert len(pairs) == 2


def test_it_finds_accounts_whose_contacts_share_a_company_domain(session: Session) -> None:
    a = make_account(session, name="青葉システム")
    b = make_account(session, name="アオバシステムズ東日本")
    make_contact(session, a, email="sato@aoba-sys.co.jp")
    make_contact(session, b, email="suzuki@AOBA-SYS.co.jp")
    # contacts on free mail say nothing about the company
    c = make_account(session, name="個人事業主A")
    d = make_account(session, name="個人事業主B")
    make_contact(session, c, email="a@gmail.com")
    make_contact(session, d, email="b@gmail.com")
    pairs = _all_account_pairs(session)
    assert pairs == {(a.id, b.id): ["shared_email_domain"]}


def test_a_kana_name_meets_the_reading_of_another(session: Session) -> None:
    a = make_account(session, name="ABC Foods", name_kana="エービーシーフーズ")
    b = make_account(session, name="エービーシーフーズ")
    c = make_account(session, name="ＡＢＣフーズ", name_kana="ｶ)ｴｰﾋﾞｰｼｰﾌｰｽﾞ")
    pairs = _all_account_pairs(session)
    assert pairs[(a.id, b.id)] == ["same_reading"]
    assert pairs[(a.id, c.id)] == ["same_reading"]
    assert pairs[(b.id, c.id)] == ["same_reading"]


def test_the_best_pairs_come_first_with_a_score(session: Session) -> None:
    weak_a = make_account(session, name="甲", name_kana="サクラ")
    weak_b = make_account(session, name="乙", name_kana="さくら")
    strong_a = make_account(session, name="株式会社さくら", domains=["sakura.jp"])
    strong_b = make_account(session, name="さくら株式会社", domains=["sakura.jp"])
    items = find_duplicate_accounts(session).items
    first = items[0]
    assert (first.first_id, first.second_id) == (strong_a.id, strong_b.id)
    assert first.reasons == ["same_domain", "same_name", "same_reading"]
    assert first.score == 100
    weak = next(p for p in items if (p.first_id, p.second_id) == (weak_a.id, weak_b.id))
    assert weak.score == 25 and weak.reasons == ["same_reading"]


def test_it_pages_through_pairs_with_a_cursor(session: Session) -> None:
    for n in range(7):
        make_account(session, name=f"株式会社ページ{n}")
        make_account(session, name=f"ページ{n}株式会社")
    seen: list[tuple[int, int]] = []
    cursor = None
    while True:
        page = find_duplicate_accounts(session, limit=3, cursor=cursor)
        seen.extend((p.first_id, p.second_id) for p in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("cursor", ["garbage", "eyJ0IjogImNvbnRhY3RzIn0", "\x00", "🍣" * 100])
def test_it_refuses_a_foreign_cursor(session: Session, cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        find_duplicate_accounts(session, cursor=cursor)
    assert caught.value.errors[0].field == "cursor"


def test_it_refuses_a_limit_out_of_range(session: Session) -> None:
    with pytest.raises(InvalidInput, match="limit"):
        find_duplicate_contacts(session, limit=0)


def test_a_crowded_key_is_a_placeholder_not_a_duplicate(session: Session) -> None:
    rows = [{"name": "個人", "name_key": "個人"} for _ in range(CROWDED + 1)]
    session.execute(insert(Account), rows)
    assert find_duplicate_accounts(session).items == []


def test_it_lists_duplicate_contacts(session: Session) -> None:
    account = make_account(session)
    x = make_contact(session, account, name="山田 太郎", email="taro@example.jp")
    y = make_contact(session, account, name="山田　太郎")
    z = make_contact(
        session, make_account(session, name="他社"), name="別人", email="TARO@example.jp"
    )
    make_contact(session, make_account(session, name="他社2"), name="山田 太郎")
    pairs = {(p.first_id, p.second_id): p for p in find_duplicate_contacts(session).items}
    assert pairs[(x.id, y.id)].reasons == ["same_name_in_account"]
    assert pairs[(x.id, z.id)].reasons == ["same_email"] and pairs[(x.id, z.id)].score == 80
    assert len(pairs) == 2


def test_it_finds_duplicates_among_many_accounts_in_seconds(session: Session) -> None:
    # 20,000 here to keep the suite quick; 100,000 accounts with 300,000 contacts take
    # 1-2 s on SQLite and on PostgreSQL (measured on a 2-core machine).
    count = 20_000
    rows = [
        {"name": f"会社{n}", "name_key": f"会社{n}", "name_kana": f"カイシャ{n}"}
        for n in range(count)
    ]
    # every 100th account has a twin spelt another way
    rows += [
        {"name": f"(株)会社{n}", "name_key": f"会社{n}", "name_kana": f"ｶｲｼｬ{n}"}
        for n in range(0, count, 100)
    ]
    ids = list(session.scalars(insert(Account).returning(Account.id), rows))
    session.execute(
        insert(AccountDomain), [{"account_id": i, "domain": f"d{i}.co.jp"} for i in ids]
    )
    session.execute(
        insert(Contact),
        [{"account_id": i, "name": "担当", "email_key": f"a@d{i}.co.jp"} for i in ids],
    )
    started = time.perf_counter()
    page = find_duplicate_accounts(session, limit=500)
    elapsed = time.perf_counter() - started
    assert len(page.items) == count // 100
    assert all(p.reasons == ["same_name", "same_reading"] for p in page.items)
    assert elapsed < 5, f"took {elapsed:.1f}s"
