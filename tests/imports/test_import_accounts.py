"""Importing accounts: presets, dry runs, idempotent upserts, all-or-nothing, bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.externalids import find_by_external_id
from banso.accounts.models import Account, AccountDomain, ExternalId
from banso.accounts.service import get_account
from banso.audit.models import AuditEntry
from banso.audit.service import history
from banso.errors import InvalidInput
from banso.imports import service
from tests.conftest import Person
from tests.imports.helpers import count, errors_of, run_import, write_csv, write_xlsx

SALESFORCE = [
    ["Account ID", "Account Name", "Website", "Industry", "Type", "Employees", "Billing City"],
    [
        "001A",
        "株式会社さくら",
        "https://www.sakura.co.jp/about",
        "IT・通信",
        "Enterprise",
        "1200",
        "東京",
    ],
    ["001B", "ひかり商事", "hikari.jp; hikari.com", "小売", "SMB", "35", "大阪"],
]


def _account(session: Session, system: str, value: str) -> Account:
    account_id = find_by_external_id(session, "account", system, value)
    assert account_id is not None, f"no account with {system} id {value}"
    return get_account(session, account_id)


def test_it_imports_a_salesforce_export_with_the_preset(session: Session, tmp_path: Path) -> None:
    report = run_import(
        session, "accounts", write_csv(tmp_path / "sf.csv", SALESFORCE), preset="salesforce"
    )
    assert report.written
    assert report.counts == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert report.unmapped_columns == ["Billing City"]
    sakura = _account(session, "salesforce", "001A")
    assert (sakura.name, sakura.segment, sakura.company_size) == (
        "株式会社さくら",
        "Enterprise",
        "1000+",
    )
    assert [d.domain for d in sakura.domains] == ["sakura.co.jp"]
    hikari = _account(session, "salesforce", "001B")
    assert [d.domain for d in hikari.domains] == ["hikari.com", "hikari.jp"]
    assert hikari.company_size == "10-49"
    assert [e.action for e in history(session, "account", hikari.id)] == ["create"]


def test_it_imports_a_hubspot_export_with_the_preset(session: Session, tmp_path: Path) -> None:
    rows = [
        ["Record ID", "Company name", "Company Domain Name", "Industry", "Lifecycle Stage", "City"],
        ["9001", "みらいシステムズ", "mirai.co.jp", "SaaS", "Customer", "札幌"],
    ]
    report = run_import(session, "accounts", write_csv(tmp_path / "hs.csv", rows), preset="hubspot")
    assert report.counts["created"] == 1
    mirai = _account(session, "hubspot", "9001")
    assert (mirai.name, mirai.industry, [t.tag for t in mirai.tags]) == (
        "みらいシステムズ",
        "SaaS",
        ["Customer"],
    )


def test_it_imports_the_same_file_twice_without_changing_anything(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "sf.csv", SALESFORCE)
    run_import(session, "accounts", path, preset="salesforce")
    audit_rows = count(session, AuditEntry)
    again = run_import(session, "accounts", path, preset="salesforce")
    assert again.counts == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert count(session, Account) == 2
    assert count(session, AuditEntry) == audit_rows
    assert _account(session, "salesforce", "001A").version == 1


def test_it_updates_only_what_changed_and_audits_it(session: Session, tmp_path: Path) -> None:
    run_import(session, "accounts", write_csv(tmp_path / "v1.csv", SALESFORCE), preset="salesforce")
    changed = [row[:] for row in SALESFORCE]
    changed[1][3] = "製造"
    report = run_import(
        session, "accounts", write_csv(tmp_path / "v2.csv", changed), preset="salesforce"
    )
    assert report.counts["updated"] == 1 and report.counts["unchanged"] == 1
    assert [(r.row, r.action, r.changed) for r in report.details] == [
        (2, "updated", ["industry"]),
        (3, "unchanged", []),
    ]
    sakura = _account(session, "salesforce", "001A")
    assert (sakura.industry, sakura.version) == ("製造", 2)
    last = history(session, "account", sakura.id)[-1]
    assert (last.action, last.before["industry"], last.after["industry"]) == (
        "update",
        "IT・通信",
        "製造",
    )


def test_it_shows_a_dry_run_row_by_row_and_writes_nothing(session: Session, tmp_path: Path) -> None:
    run_import(
        session, "accounts", write_csv(tmp_path / "v1.csv", SALESFORCE[:2]), preset="salesforce"
    )
    audit_rows = count(session, AuditEntry)
    rows = [
        SALESFORCE[0],
        ["001A", "株式会社さくら", "sakura.co.jp", "IT・通信", "Mid", "1200", ""],
        ["001B", "ひかり商事", "hikari.jp", "小売", "SMB", "35", ""],
        ["001C", "", "not a domain", "", "", "", ""],
    ]
    report = run_import(
        session, "accounts", write_csv(tmp_path / "v2.csv", rows), preset="salesforce", dry_run=True
    )
    assert not report.written
    assert [(r.row, r.action, r.changed) for r in report.details[:2]] == [
        (2, "updated", ["segment"]),
        (3, "created", []),
    ]
    assert report.details[2].action == "rejected"
    assert errors_of(report) == [
        (
            "row 4, column 'Website' (domains)",
            "'not a domain' is not a domain name (like example.co.jp)",
        )
    ]
    assert report.as_dict()["counts"] == {
        "rows": 3,
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "rejected": 1,
    }
    assert count(session, Account) == 1
    assert _account(session, "salesforce", "001A").segment == "Enterprise"
    assert count(session, AuditEntry) == audit_rows


def test_it_stores_nothing_when_one_row_is_bad(session: Session, tmp_path: Path) -> None:
    rows = [*SALESFORCE, ["001C", "", "c.co.jp", "", "", "", ""]]
    report = run_import(
        session, "accounts", write_csv(tmp_path / "bad.csv", rows), preset="salesforce"
    )
    assert not report.written
    assert report.counts["rejected"] == 1
    assert errors_of(report) == [
        ("row 4, column 'Account Name'", "a new account needs a name; map a column to name")
    ]
    assert count(session, Account) == 0
    assert count(session, ExternalId) == 0
    assert count(session, AccountDomain) == 0


def test_it_imports_the_good_rows_when_told_to_skip_bad_ones(
    session: Session, tmp_path: Path
) -> None:
    rows = [*SALESFORCE, ["001C", "エラー社", "c.co.jp", "", "", "many", ""]]
    report = run_import(
        session,
        "accounts",
        write_csv(tmp_path / "bad.csv", rows),
        preset="salesforce",
        skip_bad_rows=True,
    )
    assert report.written
    assert report.counts["created"] == 2 and report.counts["rejected"] == 1
    assert errors_of(report)[0][0] == "row 4, column 'Employees' (company_size)"
    assert count(session, Account) == 2


def test_it_refuses_a_mapping_that_names_a_missing_column_before_reading_rows(
    session: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "in.csv", [["Name", "Web"], ["さくら", "bad domain"]])
    with pytest.raises(InvalidInput) as caught:
        run_import(session, "accounts", path, pairs={"Company": "name", "Web": "domains"})
    assert caught.value.errors[0].field == "mapping 'Company'"
    assert (
        "the file has no column 'Company'; its columns are 'Name', 'Web'"
        in caught.value.errors[0].message
    )
    with pytest.raises(InvalidInput, match="'nickname' is not a account field"):
        run_import(session, "accounts", path, pairs={"Name": "nickname"})
    with pytest.raises(InvalidInput, match="external_id needs the system"):
        run_import(session, "accounts", path, pairs={"Name": "name", "Web": "external_id"})
    assert count(session, Account) == 0


def test_it_rejects_ragged_rows_and_reads_short_ones(session: Session, tmp_path: Path) -> None:
    rows = [["name", "industry"], ["短い行"], ["長い行", "IT", "余分"], ["普通", "IT"]]
    report = run_import(
        session, "accounts", write_csv(tmp_path / "r.csv", rows), skip_bad_rows=True
    )
    assert report.counts["created"] == 2
    assert errors_of(report) == [
        ("row 3", "has 3 cells but the header names 2 columns; check the quoting of this row")
    ]


def test_it_reports_a_10_mb_cell_in_a_mapped_column(session: Session, tmp_path: Path) -> None:
    big = "x" * 10_000_000
    rows = [["name", "notes"], [big, "ok"], ["普通の会社", big]]
    report = run_import(
        session, "accounts", write_csv(tmp_path / "big.csv", rows), skip_bad_rows=True
    )
    assert errors_of(report) == [
        ("row 2, column 'name' (name)", "is 10,000,000 characters long; at most 300 fit")
    ]
    assert report.unmapped_columns == ["notes"]
    assert report.counts["created"] == 1


def test_it_refuses_a_key_that_appears_twice_in_one_file(session: Session, tmp_path: Path) -> None:
    rows = [
        SALESFORCE[0],
        SALESFORCE[1],
        SALESFORCE[2],
        ["001A", "さくら(重複)", "", "", "", "", ""],
    ]
    report = run_import(
        session, "accounts", write_csv(tmp_path / "d.csv", rows), preset="salesforce"
    )
    assert errors_of(report) == [
        ("row 4", "identifies the same account as row 2; keep one of them")
    ]
    assert not report.written


@pytest.mark.parametrize("existing", [False, True])
def test_it_refuses_a_repeated_key_in_a_later_chunk(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    if existing:
        run_import(
            session, "accounts", write_csv(tmp_path / "0.csv", SALESFORCE), preset="salesforce"
        )
    monkeypatch.setattr(service, "CHUNK_ROWS", 2)
    rows = [
        *SALESFORCE,
        ["001C", "みらい", "", "", "", "", ""],
        ["001A", "さくら(再)", "", "", "", "", ""],
    ]
    report = run_import(
        session, "accounts", write_csv(tmp_path / "d.csv", rows), preset="salesforce"
    )
    assert errors_of(report) == [
        ("row 5", "identifies the same account as an earlier row of this file; keep one of them")
    ]


def test_it_validates_custom_fields_and_owners(
    session: Session, tmp_path: Path, alice: Person
) -> None:
    customfields.create_definition(
        session,
        alice.actor,
        customfields.CustomFieldIn(
            key="plan_type",
            type="single_choice",
            label_ja="プラン",
            label_en="Plan",
            choices=["Gold", "Silver"],
        ),
    )
    customfields.create_definition(
        session,
        alice.actor,
        customfields.CustomFieldIn(
            key="renewal", type="date", label_ja="更新日", label_en="Renewal"
        ),
    )
    rows = [
        ["name", "プラン", "更新日", "担当"],
        ["ゴールド社", "Gold", "2026/4/1", "ALICE@example.com"],
        ["ブロンズ社", "Bronze", "2026-04-01", ""],
        ["不明社", "", "", "nobody@example.com"],
    ]
    pairs = {
        "name": "name",
        "プラン": "custom.plan_type",
        "更新日": "custom.renewal",
        "担当": "owner",
    }
    report = run_import(
        session, "accounts", write_csv(tmp_path / "c.csv", rows), pairs=pairs, skip_bad_rows=True
    )
    assert errors_of(report) == [
        ("row 3, column 'プラン'", "Plan / プラン: must be one of ['Gold', 'Silver']"),
        (
            "row 4, column '担当' (owner)",
            "no banso user has the e-mail 'nobody@example.com'; create one (banso users create) "
            "or leave the cell empty",
        ),
    ]
    gold = session.scalars(select(Account).where(Account.name == "ゴールド社")).one()
    assert gold.custom == {"plan_type": "Gold", "renewal": "2026-04-01"}
    assert gold.owner_id == alice.user.id


HOSTILE = [
    "'; DROP TABLE accounts; --",
    "<script>alert('x')</script>",
    "=cmd|' /C calc'!A0",
    "😀 絵文字 👩‍👩‍👧",
    "tab\there, bell\x07 and \x1b escape",
    "改行\nを含む\r\n名前",
    '"quoted", with comma',
    "_x0041_ literal",
]


def test_it_stores_hostile_strings_verbatim(session: Session, tmp_path: Path) -> None:
    rows = [["name", "segment"], *([name, "hostile"] for name in HOSTILE)]
    report = run_import(session, "accounts", write_csv(tmp_path / "h.csv", rows))
    assert report.counts["created"] == len(HOSTILE)
    stored = sorted(session.scalars(select(Account.name).where(Account.segment == "hostile")))
    assert stored == sorted(HOSTILE)


def test_it_refuses_a_nul_character_naming_row_and_column(session: Session, tmp_path: Path) -> None:
    # Excel writes control characters as _xHHHH_; NUL arrives that way from an .xlsx file.
    path = write_xlsx(tmp_path / "nul.xlsx", [["name"], ["普通社"], ["NUL_x0000_社"]])
    report = run_import(session, "accounts", path)
    assert errors_of(report) == [
        ("row 3, column 'name' (name)", "contains a NUL character (\\x00), which cannot be stored")
    ]
    assert count(session, Account) == 0


def test_it_reads_an_empty_or_header_only_file_as_nothing_to_do(
    session: Session, tmp_path: Path
) -> None:
    report = run_import(session, "accounts", write_csv(tmp_path / "h.csv", [["name"]]))
    assert report.counts["rows"] == 0 and report.written
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="the file is empty"):
        run_import(session, "accounts", empty)
