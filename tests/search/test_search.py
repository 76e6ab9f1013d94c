"""Japanese-capable account search on both databases: what a user types finds what it should."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition
from banso.accounts.merge import merge_accounts
from banso.accounts.models import Account, Contact
from banso.accounts.schemas import AccountPatch, ContactPatch
from banso.accounts.service import delete_account, update_account, update_contact
from banso.errors import InvalidInput
from banso.search.service import account_matches, refresh, reindex_all
from tests.factories import SYSTEM, make_account, make_contact


def found(session: Session, q: str) -> set[str]:
    condition = account_matches(session, q)
    assert condition is not None, f"{q!r} searched for nothing"
    return set(session.scalars(select(Account.name).where(condition)))


@pytest.fixture
def accounts(session: Session) -> dict[str, Account]:
    made = {
        "tokyo": make_account(session, name="東京システム株式会社", name_kana="トウキョウシステム"),
        "kyoto": make_account(
            session, name="京都物産", name_kana="キョウトブッサン", tags=["解約予定"]
        ),
        "acme": make_account(session, name="ACME Japan K.K.", domains=["acme.co.jp"]),
        "hinata": make_account(session, name="ひなた食堂", tags=["飲食"]),
    }
    make_contact(session, made["acme"], name="佐藤 花子", email="hanako.sato@acme.co.jp")
    session.flush()
    return made


def test_it_finds_a_two_character_japanese_query(session: Session, accounts: dict) -> None:
    assert found(session, "東京") == {"東京システム株式会社"}
    assert found(session, "解約") == {"京都物産"}
    assert found(session, "京都") == {"京都物産"}


def test_it_finds_a_one_character_query_anywhere_in_a_field(
    session: Session, accounts: dict
) -> None:
    assert found(session, "京") == {"東京システム株式会社", "京都物産"}
    assert found(session, "堂") == {"ひなた食堂"}  # the last character of a name


def test_it_matches_kana_width_and_case_variants(session: Session, accounts: dict) -> None:
    assert found(session, "しすてむ") == {"東京システム株式会社"}
    assert found(session, "ｼｽﾃﾑ") == {"東京システム株式会社"}
    assert found(session, "とうきょう") == {"東京システム株式会社"}  # the reading
    assert found(session, "ＡＣＭＥ") == {"ACME Japan K.K."}
    assert found(session, "acme japan") == {"ACME Japan K.K."}
    assert found(session, "ヒナタ") == {"ひなた食堂"}


def test_it_combines_japanese_and_english_words(session: Session, accounts: dict) -> None:
    assert found(session, "acme 佐藤") == {"ACME Japan K.K."}
    assert found(session, "acme 東京") == set()


def test_it_searches_contacts_domains_tags_and_text_fields(
    session: Session, accounts: dict
) -> None:
    create_definition(
        session,
        SYSTEM,
        CustomFieldIn(key="memo", type="text", label_ja="メモ", label_en="Memo"),
    )
    account = accounts["hinata"]
    update_account(
        session,
        SYSTEM,
        account.id,
        AccountPatch(version=account.version, custom={"memo": "大阪出店"}),
    )
    assert found(session, "花子") == {"ACME Japan K.K."}
    assert found(session, "hanako.sato@acme") == {"ACME Japan K.K."}
    assert found(session, "acme.co.jp") == {"ACME Japan K.K."}
    assert found(session, "飲食") == {"ひなた食堂"}
    assert found(session, "大阪") == {"ひなた食堂"}


def test_it_requires_the_characters_in_order(session: Session, accounts: dict) -> None:
    assert found(session, "京東") == set()
    assert found(session, "システム東京") == set()


def test_it_treats_hostile_input_as_text(session: Session, accounts: dict) -> None:
    make_account(session, name='100% "AND" OR_NOT*(x)')
    session.flush()
    assert found(session, '"AND"') == {'100% "AND" OR_NOT*(x)'}
    assert found(session, "100%") == {'100% "AND" OR_NOT*(x)'}
    for hostile in ('"', "*", "NEAR(a b)", "a OR b", "' OR 1=1 --", "%", "_", "東京:*", "!&|<->"):
        condition = account_matches(session, hostile)
        if condition is not None:
            session.scalars(select(Account.id).where(condition)).all()
    assert account_matches(session, "   ") is None


def test_it_refuses_a_query_too_long_to_be_a_search(session: Session, accounts: dict) -> None:
    with pytest.raises(InvalidInput, match="at most 200"):
        account_matches(session, "東" * 201)
    with pytest.raises(InvalidInput, match="11 words; search with at most 10"):
        account_matches(session, " ".join("ab" for _ in range(11)))


def test_it_follows_updates_and_deletes(session: Session, accounts: dict) -> None:
    tokyo = accounts["tokyo"]
    update_account(
        session, SYSTEM, tokyo.id, AccountPatch(version=tokyo.version, name="大阪システム")
    )
    assert found(session, "東京") == set()
    assert found(session, "大阪") == {"大阪システム"}
    contact = session.scalars(select(Contact)).one()
    update_contact(
        session, SYSTEM, contact.id, ContactPatch(version=contact.version, name="鈴木 一郎")
    )
    assert found(session, "花子") == set()
    assert found(session, "鈴木") == {"ACME Japan K.K."}
    delete_account(session, SYSTEM, accounts["kyoto"].id, confirm=True)
    assert found(session, "京都") == set()


def test_it_follows_a_merge(session: Session, accounts: dict) -> None:
    source, target = accounts["acme"], accounts["hinata"]
    merge_accounts(session, SYSTEM, source.id, target.id, preview=False)
    session.flush()
    # The contact moved with the merge, so its name now finds the account it belongs to.
    assert found(session, "花子") == {"ひなた食堂"}
    assert found(session, "acme japan") == set()


def test_it_sees_changes_written_with_plain_sql(session: Session, accounts: dict) -> None:
    session.execute(
        update(Account).where(Account.id == accounts["hinata"].id).values(name="札幌珈琲")
    )
    assert found(session, "札幌") == {"札幌珈琲"}


def test_it_rebuilds_the_whole_index(session: Session, accounts: dict) -> None:
    refresh(session)
    assert reindex_all(session) == 4
    assert found(session, "東京") == {"東京システム株式会社"}
    assert refresh(session) == 0


def test_it_queues_nothing_for_a_change_search_does_not_read(
    session: Session, accounts: dict
) -> None:
    refresh(session)
    session.execute(update(Account).values(mrr=Account.mrr + 1))
    assert session.scalar(text("SELECT count(*) FROM search_queue")) == 0


def test_it_sees_rows_inserted_in_bulk_like_an_import(session: Session, accounts: dict) -> None:
    session.execute(
        insert(Contact),
        [{"account_id": accounts["hinata"].id, "name": "高橋 次郎", "custom": {}, "version": 1}],
    )
    assert found(session, "高橋") == {"ひなた食堂"}
