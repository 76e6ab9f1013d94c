"""Importing contracts (amounts, dates, MRR history) and deals (pipeline rules)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.service import mrr_on
from banso.deals.models import Deal
from tests.factories import make_account
from tests.imports.helpers import errors_of, run_import, write_csv, write_xlsx

CONTRACT_MAP = {
    "契約ID": "external_id",
    "会社": "account_name",
    "プラン": "plan",
    "月額": "mrr",
    "開始日": "start_date",
    "終了日": "end_date",
    "状態": "status",
}


def _contracts(session: Session) -> list[Contract]:
    return list(session.scalars(select(Contract).order_by(Contract.id)))


def test_it_reads_yen_amounts_and_dates_as_japanese_files_write_them(
    session: Session, tmp_path: Path
) -> None:
    account = make_account(session, name="株式会社さくら")
    rows = [
        list(CONTRACT_MAP),
        ["C1", "さくら", "Enterprise", "¥1,234,000", "2026/4/1", "2027年3月31日", "active"],
        ["C2", "さくら", "Option", "50000円", "2026-04-01", "", "active"],
        ["C3", "さくら", "Old", "30,000", "2024/4/1", "2025/3/31", "churned"],
    ]
    report = run_import(
        session,
        "contracts",
        write_csv(tmp_path / "c.csv", rows),
        pairs=CONTRACT_MAP,
        system="billing",
    )
    assert report.counts["created"] == 3, report.rejected
    c1, c2, c3 = _contracts(session)
    assert (c1.mrr, c1.start_date, c1.end_date) == (1_234_000, date(2026, 4, 1), date(2027, 3, 31))
    assert (c2.mrr, c2.end_date, c2.auto_renew) == (50_000, None, True)
    assert (c3.status, c3.mrr) == ("churned", 0)
    assert session.get(Account, account.id).mrr == 1_284_000  # type: ignore[union-attr]
    assert mrr_on(session, date(2024, 6, 1), account.id) == 30_000
    assert mrr_on(session, date(2026, 5, 1), account.id) == 1_284_000


def test_it_reads_excel_dates_and_numbers_from_xlsx(session: Session, tmp_path: Path) -> None:
    make_account(session, name="ひかり")
    rows = [
        list(CONTRACT_MAP),
        ["X1", "ひかり", "Standard", 88000, datetime(2026, 4, 1), 46477, "trial"],
    ]
    report = run_import(
        session,
        "contracts",
        write_xlsx(tmp_path / "c.xlsx", rows),
        pairs=CONTRACT_MAP,
        system="billing",
    )
    assert report.counts["created"] == 1, report.rejected
    (contract,) = _contracts(session)
    assert (contract.mrr, contract.start_date, contract.end_date, contract.status) == (
        88_000,
        date(2026, 4, 1),
        date(2027, 3, 31),
        "trial",
    )


def test_it_keeps_an_imported_mrr_change_as_a_movement(session: Session, tmp_path: Path) -> None:
    account = make_account(session, name="さくら")
    first = [list(CONTRACT_MAP), ["C1", "さくら", "Standard", "100000", "2025-04-01", "", "active"]]
    run_import(
        session,
        "contracts",
        write_csv(tmp_path / "1.csv", first),
        pairs=CONTRACT_MAP,
        system="billing",
    )
    again = run_import(
        session,
        "contracts",
        write_csv(tmp_path / "1.csv", first),
        pairs=CONTRACT_MAP,
        system="billing",
    )
    assert again.counts["unchanged"] == 1
    second = [
        list(CONTRACT_MAP),
        ["C1", "さくら", "Standard", "150000", "2025-04-01", "", "active"],
    ]
    report = run_import(
        session,
        "contracts",
        write_csv(tmp_path / "2.csv", second),
        pairs=CONTRACT_MAP,
        system="billing",
        today=date(2026, 1, 1),
    )
    assert [(r.action, r.changed) for r in report.details] == [("updated", ["mrr"])]
    kinds = [
        (m.kind, m.effective_date, m.mrr_after)
        for m in session.scalars(select(ContractMovement).order_by(ContractMovement.id))
    ]
    assert kinds == [("new", date(2025, 4, 1), 100_000), ("expansion", date(2026, 1, 1), 150_000)]
    assert session.get(Account, account.id).mrr == 150_000  # type: ignore[union-attr]


def test_it_rejects_impossible_contracts_naming_row_and_column(
    session: Session, tmp_path: Path
) -> None:
    make_account(session, name="さくら")
    rows = [
        list(CONTRACT_MAP),
        ["C1", "さくら", "Standard", "¥12.5", "2026-04-01", "", "active"],
        ["C2", "さくら", "Standard", "1000", "2026-04-01", "2026-03-01", "active"],
        ["C3", "さくら", "Standard", "1000", "2026-02-30", "", "active"],
        ["C4", "さくら", "Standard", "1000", "2026-04-01", "", "gone"],
        ["C5", "さくら", "Standard", "1000", "2025-04-01", "", "churned"],
    ]
    report = run_import(
        session,
        "contracts",
        write_csv(tmp_path / "c.csv", rows),
        pairs=CONTRACT_MAP,
        system="billing",
    )
    assert not report.written
    assert errors_of(report) == [
        ("row 2, column '月額'", "'¥12.5' has more than 0 decimal places for JPY"),
        ("row 3, column '終了日'", "2026-03-01 is before the start_date 2026-04-01"),
        (
            "row 4, column '開始日' (start_date)",
            "'2026-02-30' is not a real date (day is out of range for month)",
        ),
        ("row 5, column '状態' (status)", "'gone' is not one of: trial, active, churned, paused"),
        ("row 6, column '終了日'", "a churned contract needs its end_date (the day it ended)"),
    ]
    assert _contracts(session) == []


def test_it_imports_salesforce_opportunities_with_pipeline_rules(
    session: Session, tmp_path: Path
) -> None:
    rows = [
        ["Opportunity ID", "Opportunity Name", "Stage", "Loss Reason", "Close Date", "Lead Source"],
        ["006A", "さくら 新規", "Proposal/Price Quote", "", "2026/5/31", "Web"],
        ["006B", "ひかり 新規", "Closed Lost", "Competitor", "2026/3/1", "展示会"],
        ["006C", "みらい 新規", "Closed Lost", "", "2026/3/1", ""],
        ["006D", "北斗 新規", "Dreaming", "", "", ""],
    ]
    report = run_import(
        session,
        "deals",
        write_csv(tmp_path / "o.csv", rows),
        preset="salesforce",
        skip_bad_rows=True,
    )
    assert report.counts["created"] == 2
    deals = {d.title: d for d in session.scalars(select(Deal))}
    assert (deals["さくら 新規"].stage_key, deals["さくら 新規"].expected_close_date) == (
        "proposal",
        date(2026, 5, 31),
    )
    assert (deals["ひかり 新規"].stage_key, deals["ひかり 新規"].lost_reason_key) == (
        "lost",
        "competitor",
    )
    field, message = errors_of(report)[0]
    assert field == "row 4, column 'Loss Reason'"
    assert message.startswith("stage 'lost' is lost: give a lost reason of kind lost (price, ")
    field, message = errors_of(report)[1]
    assert field == "row 5, column 'Stage' (stage)"
    assert message.startswith("'Dreaming' is not a stage; use one of ")


def test_it_accepts_stage_labels_in_japanese(session: Session, tmp_path: Path) -> None:
    rows = [
        ["件名", "段階", "失注理由"],
        ["案件A", "受注", ""],
        ["案件B", "失注", "価格が合わない"],
    ]
    pairs = {"件名": "title", "段階": "stage", "失注理由": "lost_reason"}
    report = run_import(session, "deals", write_csv(tmp_path / "d.csv", rows), pairs=pairs)
    assert report.counts["created"] == 2, report.rejected
    stages = {d.title: (d.stage_key, d.lost_reason_key) for d in session.scalars(select(Deal))}
    assert stages == {"案件A": ("won", None), "案件B": ("lost", "price")}


def test_it_applies_the_pipeline_rules_of_deals(session: Session, tmp_path: Path) -> None:
    rows = [
        ["件名", "段階", "失注理由"],
        ["種類違い", "lost", "duplicate"],
        ["理由付きの進行中", "proposal", "price"],
        ["受注", "won", ""],
    ]
    pairs = {"件名": "title", "段階": "stage", "失注理由": "lost_reason"}
    report = run_import(
        session,
        "deals",
        write_csv(tmp_path / "d.csv", rows),
        pairs=pairs,
        skip_bad_rows=True,
        today=date(2026, 4, 1),
    )
    assert [field for field, _ in errors_of(report)] == [
        "row 2, column '失注理由'",
        "row 3, column '失注理由'",
    ]
    assert errors_of(report)[0][1].startswith("'duplicate' is a reason of kind archived")
    assert errors_of(report)[1][1] == (
        "only a lost or archived deal has a lost reason; stage 'proposal' is open"
    )
    (won,) = session.scalars(select(Deal)).all()
    assert (won.stage_key, won.closed_date) == ("won", date(2026, 4, 1))
