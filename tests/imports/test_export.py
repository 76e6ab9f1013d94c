"""Exports stream every record with custom fields and external ids, and import back unchanged."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.deals.models import Deal
from banso.errors import InvalidInput
from banso.imports import export as exporter
from tests.conftest import Person
from tests.factories import make_account, make_contact, make_contract
from tests.imports.helpers import run_import
from tests.imports.test_import_accounts import HOSTILE


def _seed(session: Session, alice: Person) -> None:
    customfields.create_definition(
        session,
        alice.actor,
        customfields.CustomFieldIn(
            key="modules",
            type="multi_choice",
            label_ja="利用機能",
            label_en="Modules",
            choices=["CRM", "MA"],
        ),
    )
    customfields.create_definition(
        session,
        alice.actor,
        customfields.CustomFieldIn(key="vip", type="checkbox", label_ja="重要", label_en="VIP"),
    )
    sakura = make_account(
        session,
        name="株式会社さくら",
        name_kana="サクラ",
        domains=["sakura.co.jp", "sakura.jp"],
        tags=["重要", "VIP"],
        segment="Enterprise",
        owner_id=alice.user.id,
        custom={"modules": ["CRM", "MA"], "vip": True},
        external_ids={"salesforce": "001A", "hubspot": "9"},
    )
    for index, name in enumerate(HOSTILE):
        make_account(
            session, name=name, segment="hostile", external_ids={"salesforce": f"H{index}"}
        )
    make_contact(session, sakura, name="山田 太郎", email="taro@sakura.co.jp", is_key_person=True)
    make_contract(session, sakura, mrr=120_000, external_ids={"billing": "C-1"})


def _csv(session: Session, entity: str, encoding: str = "utf-8") -> str:
    data = b"".join(exporter.csv_chunks(exporter.export(session, entity), encoding))
    return data.decode("utf-8-sig" if encoding == "utf-8" else encoding)


def test_it_exports_labelled_custom_fields_and_external_ids(
    session: Session, alice: Person
) -> None:
    _seed(session, alice)
    rows = list(csv.DictReader(io.StringIO(_csv(session, "accounts"))))
    sakura = next(r for r in rows if r["name"] == "株式会社さくら")
    assert sakura["domains"] == "sakura.co.jp; sakura.jp"
    assert sakura["tags"] == "VIP; 重要"
    assert sakura["owner"] == "alice@example.com"
    assert sakura["Modules / 利用機能 (custom.modules)"] == "CRM; MA"
    assert sakura["VIP / 重要 (custom.vip)"] == "true"
    assert (sakura["external_id.hubspot"], sakura["external_id.salesforce"]) == ("9", "001A")
    assert sorted(r["name"] for r in rows if r["segment"] == "hostile") == sorted(HOSTILE)
    contract = next(csv.DictReader(io.StringIO(_csv(session, "contracts"))))
    assert (contract["mrr"], contract["account_name"], contract["external_id.billing"]) == (
        "120000",
        "株式会社さくら",
        "C-1",
    )


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
@pytest.mark.parametrize("entity", ["accounts", "contacts", "contracts"])
def test_it_round_trips_an_export_through_import_unchanged(
    session: Session, alice: Person, tmp_path: Path, entity: str, suffix: str
) -> None:
    _seed(session, alice)
    path = tmp_path / f"{entity}.{suffix}"
    count = exporter.write_file(exporter.export(session, entity), path)
    assert count > 0
    report = run_import(session, entity, path)
    assert report.counts["unchanged"] == count, report.as_dict()
    assert report.counts["rows"] == count


def test_it_round_trips_deals(session: Session, alice: Person, tmp_path: Path) -> None:
    account = make_account(session, name="さくら")
    contact = make_contact(session, account, name="山田 太郎", email="taro@sakura.co.jp")
    session.add_all(
        [
            Deal(
                title="さくら 新規",
                account_id=account.id,
                contact_id=contact.id,
                stage_key="lost",
                lost_reason_key="price",
                lost_reason_text="予算の都合\n来期に再検討",
                budget=1_000_000,
                expected_mrr=80_000,
                owner_id=alice.user.id,
                inquiry_date=date(2026, 1, 15),
                custom={},
            ),
            Deal(title="問い合わせのみ", company_name="未登録社", stage_key="inquiry", custom={}),
        ]
    )
    session.flush()
    path = tmp_path / "deals.csv"
    assert exporter.write_file(exporter.export(session, "deals"), path) == 2
    report = run_import(session, "deals", path)
    assert report.counts["unchanged"] == 2, report.as_dict()


def test_it_imports_an_edited_export_as_updates(
    session: Session, alice: Person, tmp_path: Path
) -> None:
    _seed(session, alice)
    text = _csv(session, "accounts").replace("Enterprise", "Mid-market")
    path = tmp_path / "edited.csv"
    path.write_text(text, encoding="utf-8")
    report = run_import(session, "accounts", path)
    assert [(r.action, r.changed) for r in report.details if r.action != "unchanged"] == [
        ("updated", ["segment"])
    ]


def test_it_exports_shift_jis_and_says_what_cannot_be_written(session: Session) -> None:
    make_account(session, name="株式会社さくら", segment="SMB")
    assert "株式会社さくら" in _csv(session, "accounts", "cp932")
    make_account(session, name="絵文字😀社")
    with pytest.raises(
        InvalidInput, match=r"'😀' .* cannot be written in Shift_JIS/CP932; export as UTF-8"
    ):
        _csv(session, "accounts", "cp932")


def test_it_filters_an_export(session: Session) -> None:
    make_account(session, name="A社", segment="SMB")
    make_account(session, name="B社", segment="Enterprise")
    data = exporter.export(session, "accounts", exporter.ExportFilter(segment="SMB"))
    assert [row[1] for row in data.rows] == ["A社"]


def test_it_writes_xlsx_strings_as_strings_never_formulas(session: Session, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    make_account(session, name='=HYPERLINK("http://evil")', segment="#N/A")
    path = tmp_path / "a.xlsx"
    exporter.write_file(exporter.export(session, "accounts"), path)
    sheet = load_workbook(path).worksheets[0]
    name_cell, segment_cell = sheet["B2"], sheet["G2"]
    assert (name_cell.data_type, name_cell.value) == ("s", '=HYPERLINK("http://evil")')
    assert (segment_cell.data_type, segment_cell.value) == ("s", "#N/A")


def test_it_exports_dates_as_iso(session: Session) -> None:
    account = make_account(session, name="さくら")
    make_contract(session, account, start_date=date(2026, 4, 1), end_date=None)
    contract = next(csv.DictReader(io.StringIO(_csv(session, "contracts"))))
    assert (contract["start_date"], contract["end_date"]) == ("2026-04-01", "")
