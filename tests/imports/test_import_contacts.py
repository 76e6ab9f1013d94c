"""Importing contacts: their account by external id or name, names in Japanese order."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Contact
from tests.factories import make_account
from tests.imports.helpers import errors_of, run_import, write_csv

ACCOUNTS = [
    ["Account ID", "Account Name"],
    ["001A", "株式会社さくら"],
    ["001B", "Hikari Trading"],
]
CONTACTS = [
    ["Contact ID", "Account ID", "Last Name", "First Name", "Email", "Title"],
    ["003A", "001A", "山田", "太郎", "taro@sakura.co.jp", "部長"],
    ["003B", "001B", "Smith", "John", "JOHN@hikari.com", "CTO"],
    ["003C", "001Z", "佐藤", "花子", "hanako@example.jp", ""],
    ["003D", "001A", "鈴木", "", "not-an-address", ""],
]


def _contacts(session: Session) -> dict[str, Contact]:
    return {c.name: c for c in session.scalars(select(Contact))}


def test_it_imports_salesforce_contacts_onto_their_accounts(
    session: Session, tmp_path: Path
) -> None:
    run_import(session, "accounts", write_csv(tmp_path / "a.csv", ACCOUNTS), preset="salesforce")
    report = run_import(
        session,
        "contacts",
        write_csv(tmp_path / "c.csv", CONTACTS),
        preset="salesforce",
        skip_bad_rows=True,
    )
    assert report.counts["created"] == 2
    assert errors_of(report) == [
        (
            "row 4, column 'Account ID'",
            "no account has salesforce id '001Z'; import the accounts first",
        ),
        (
            "row 5, column 'Email'",
            "'not-an-address' is not an e-mail address (An email address must have an @-sign.)",
        ),
    ]
    contacts = _contacts(session)
    assert set(contacts) == {"山田 太郎", "John Smith"}
    assert contacts["山田 太郎"].title == "部長"
    assert contacts["John Smith"].email_key == "john@hikari.com"


def test_it_finds_the_account_by_name_as_identity_resolution_does(
    session: Session, tmp_path: Path
) -> None:
    sakura = make_account(session, name="株式会社さくら")
    make_account(session, name="ひかり")
    make_account(session, name="ひかり株式会社")
    rows = [
        ["会社", "姓", "名", "セイ", "メイ"],
        ["(株)さくら", "山田", "太郎", "ヤマダ", "タロウ"],
        ["ひかり", "佐藤", "花子", "", ""],
        ["どこにもない社", "田中", "一郎", "", ""],
    ]
    pairs = {
        "会社": "account_name",
        "姓": "last_name",
        "名": "first_name",
        "セイ": "last_name_kana",
        "メイ": "first_name_kana",
    }
    report = run_import(
        session, "contacts", write_csv(tmp_path / "c.csv", rows), pairs=pairs, skip_bad_rows=True
    )
    assert report.counts["created"] == 1
    yamada = _contacts(session)["山田 太郎"]
    assert (yamada.account_id, yamada.name_kana) == (sakura.id, "ヤマダ タロウ")
    messages = [m for _, m in errors_of(report)]
    assert messages[0].startswith("2 accounts are named 'ひかり'")
    assert messages[1] == "no account is named 'どこにもない社'"


def test_it_imports_hubspot_contacts_and_re_imports_them_unchanged(
    session: Session, tmp_path: Path
) -> None:
    accounts = [["Record ID", "Company name"], ["501", "みらい"]]
    run_import(session, "accounts", write_csv(tmp_path / "a.csv", accounts), preset="hubspot")
    rows = [
        ["Record ID", "First Name", "Last Name", "Email", "Associated Company ID", "Job Title"],
        ["701", "一郎", "田中", "ichiro@mirai.jp", "501", "CS"],
    ]
    path = write_csv(tmp_path / "c.csv", rows)
    assert run_import(session, "contacts", path, preset="hubspot").counts["created"] == 1
    assert set(_contacts(session)) == {"田中 一郎"}
    assert run_import(session, "contacts", path, preset="hubspot").counts["unchanged"] == 1


def test_it_needs_an_account_for_a_new_contact(session: Session, tmp_path: Path) -> None:
    rows = [["name", "email"], ["孤立 太郎", "k@example.jp"]]
    report = run_import(session, "contacts", write_csv(tmp_path / "c.csv", rows))
    assert errors_of(report) == [
        (
            "row 2, column 'account_id'",
            "a new contact needs its account; map account_id, account_external_id or account_name",
        )
    ]
