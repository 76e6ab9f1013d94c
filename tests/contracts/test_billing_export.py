"""The billing CSV: one line per contract billed in a month, in UTF-8 (BOM) or cp932."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.contracts.schemas import MovementIn
from banso.contracts.service import BILLING_COLUMNS, billing_rows, record_movement
from tests.conftest import Person
from tests.factories import SYSTEM, make_account, make_contract

BILLING = "/api/v1/billing.csv"


def parse(content: bytes, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode(encoding), newline="")))


def seed(session: Session) -> None:
    takashimaya = make_account(
        session, name="㈱髙島ファーム", external_ids={"accounting": "T-001", "freee": "9"}
    )
    sakura = make_account(session, name="さくら株式会社")
    grows = make_contract(
        session, takashimaya, plan="Standard", mrr=50_000, seats=10, start_date=date(2025, 4, 1)
    )
    record_movement(
        session,
        SYSTEM,
        grows.id,
        MovementIn(kind="expansion", effective_date=date(2025, 11, 1), mrr=80_000, plan="Pro"),
    )
    make_contract(session, sakura, plan="Lite", mrr=1_250, currency="USD", seats=None)
    leaves = make_contract(session, sakura, plan="Old", mrr=9_000, start_date=date(2025, 1, 1))
    record_movement(
        session, SYSTEM, leaves.id, MovementIn(kind="churn", effective_date=date(2025, 10, 15))
    )
    make_contract(session, sakura, plan="試用", mrr=0, status="trial")
    make_contract(session, sakura, plan="Later", mrr=3_000, start_date=date(2025, 12, 1))


def test_it_exports_one_line_per_billed_contract_in_utf8_with_bom(
    client: TestClient, session: Session, charlie: Person
) -> None:
    seed(session)
    response = client.get(BILLING, params={"month": "2025-11"}, headers=charlie.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="billing-2025-11.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbfbilling_month,")
    assert b"\r\n" in response.content
    rows = parse(response.content, "utf-8-sig")
    assert list(rows[0]) == list(BILLING_COLUMNS)
    assert [
        (r["account_name"], r["account_code"], r["plan"], r["seats"], r["amount"], r["currency"])
        for r in rows
    ] == [  # by account name in code point order, the same on every database
        ("さくら株式会社", "", "Lite", "", "12.50", "USD"),
        ("㈱髙島ファーム", "T-001", "Pro", "10", "80000", "JPY"),
    ]
    assert {r["billing_month"] for r in rows} == {"2025-11"}
    assert rows[1]["term_start"] == "2025-04-01" and rows[1]["term_end"] == "2026-03-31"


def test_it_bills_a_past_month_with_the_terms_of_that_month(
    client: TestClient, session: Session, bob: Person
) -> None:
    seed(session)
    response = client.get(BILLING, params={"month": "2025-10"}, headers=bob.headers)
    rows = parse(response.content, "utf-8-sig")
    assert [(r["plan"], r["amount"]) for r in rows] == [("Lite", "12.50"), ("Standard", "50000")]
    september = parse(
        client.get(BILLING, params={"month": "2025-09"}, headers=bob.headers).content, "utf-8-sig"
    )
    assert sorted(r["plan"] for r in september) == ["Lite", "Old", "Standard"]
    december = parse(
        client.get(BILLING, params={"month": "2025-12"}, headers=bob.headers).content, "utf-8-sig"
    )
    assert sorted(r["plan"] for r in december) == ["Later", "Lite", "Pro"]


def test_it_fills_account_code_from_the_system_asked_for(
    client: TestClient, session: Session, bob: Person
) -> None:
    seed(session)
    params = {"month": "2025-11", "account_code_system": "freee"}
    rows = parse(client.get(BILLING, params=params, headers=bob.headers).content, "utf-8-sig")
    assert [r["account_code"] for r in rows] == ["", "9"]


def test_it_exports_cp932_for_shift_jis_tools(
    client: TestClient, session: Session, bob: Person
) -> None:
    seed(session)
    account = make_account(session, name="有限会社テスト—ダッシュ")
    make_contract(session, account, plan="ベーシック～", mrr=1_000)
    params = {"month": "2025-11", "encoding": "cp932"}
    response = client.get(BILLING, params=params, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=windows-31j"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    assert "㈱髙島ファーム".encode("cp932") in response.content
    names = [r["account_name"] for r in parse(response.content, "cp932")]
    # cp932 writes JIS's dash as U+2015; an em dash typed elsewhere is that same character.
    assert names == ["さくら株式会社", "㈱髙島ファーム", "有限会社テスト―ダッシュ"]


def test_it_names_the_row_a_cp932_file_cannot_hold(
    client: TestClient, session: Session, bob: Person
) -> None:
    seed(session)
    make_contract(session, make_account(session, name="絵文字🍣株式会社"), plan="寿司🍣プラン")
    response = client.get(
        BILLING, params={"month": "2025-11", "encoding": "cp932"}, headers=bob.headers
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["row 3", "row 3"]
    assert "account_name of contract" in errors[0]["message"]
    assert "'🍣' (U+1F363)" in errors[0]["message"]
    assert "CSV line 4" in errors[0]["message"]
    assert "encoding utf-8" in errors[0]["message"]
    assert errors[1]["message"].startswith("plan of contract")
    utf8 = client.get(BILLING, params={"month": "2025-11"}, headers=bob.headers)
    assert "絵文字🍣株式会社" in utf8.content.decode("utf-8-sig")


def test_it_keeps_a_spreadsheet_from_running_a_name_as_a_formula(
    client: TestClient, session: Session, bob: Person
) -> None:
    account = make_account(session, name='=HYPERLINK("http://evil.example","x")')
    make_contract(session, account, plan="+1+2", mrr=1_000, start_date=date(2025, 1, 1))
    rows = parse(
        client.get(BILLING, params={"month": "2025-05"}, headers=bob.headers).content, "utf-8-sig"
    )
    assert rows[0]["account_name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[0]["plan"] == "'+1+2"


def test_it_exports_this_month_when_no_month_is_given(
    client: TestClient, session: Session, bob: Person
) -> None:
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    make_contract(session, make_account(session), start_date=today.replace(day=1), end_date=None)
    response = client.get(BILLING, headers=bob.headers)
    assert response.status_code == 200, response.text
    assert f'billing-{today:%Y-%m}.csv"' in response.headers["content-disposition"]
    assert [r["billing_month"] for r in parse(response.content, "utf-8-sig")] == [f"{today:%Y-%m}"]


def test_it_exports_a_header_only_for_a_month_without_contracts(
    client: TestClient, bob: Person
) -> None:
    response = client.get(BILLING, params={"month": "1999-01"}, headers=bob.headers)
    assert response.content == ("\ufeff" + ",".join(BILLING_COLUMNS) + "\r\n").encode()


def test_it_lists_the_rows_in_the_service_too(session: Session) -> None:
    seed(session)
    rows = billing_rows(session, date(2025, 11, 1))
    assert [(r["plan"], r["amount"]) for r in rows] == [("Lite", "12.50"), ("Pro", "80000")]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"month": "2025-13"}, "month"),
        ({"month": "2025-1"}, "month"),
        ({"month": "november"}, "month"),
        ({"month": "2025-11", "encoding": "latin-1"}, "encoding"),
        ({"month": "2025-11", "account_code_system": "Bad System!"}, "account_code_system"),
    ],
)
def test_it_refuses_a_bad_export_request(
    client: TestClient, bob: Person, params: dict[str, str], field: str
) -> None:
    response = client.get(BILLING, params=params, headers=bob.headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
