"""Exporting a view: its accounts, columns and order, Japanese intact in UTF-8 and CP932."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from banso.errors import InvalidInput
from banso.imports.export import csv_chunks, write_xlsx
from banso.segments.export import export_view
from banso.segments.view import parse_view
from tests.conftest import Person
from tests.factories import make_account


@pytest.fixture
def accounts(session: Session, bob: Person) -> None:
    make_account(session, name="株式会社東京商事", tags=["解約予定", "VIP"], owner_id=bob.user.id)
    make_account(session, name="東京物流合同会社", segment="SMB")
    make_account(session, name="大阪商事")
    session.flush()


def _export(session: Session, params: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return export_view(session, parse_view(session, params), None, lambda c: f"[{c}]")


def test_it_exports_the_view_as_utf8_with_a_bom(session: Session, accounts: None) -> None:
    data = _export(session, {"q": ["東京"], "sort": ["-name"], "cols": ["name,owner,tags"]})
    body = b"".join(csv_chunks(data, "utf-8"))
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["ID", "[name]", "[owner]", "[tags]"]
    assert [r[1:] for r in rows[1:]] == [
        ["株式会社東京商事", "bob", "VIP; 解約予定"],  # 株 (U+682A) sorts after 東 (U+6771)
        ["東京物流合同会社", "", ""],
    ]


def test_it_exports_shift_jis_and_says_when_a_character_does_not_fit(
    session: Session, accounts: None
) -> None:
    data = _export(session, {"q": ["大阪"], "cols": ["name"]})
    body = b"".join(csv_chunks(data, "cp932"))
    assert "大阪商事" in body.decode("cp932")
    make_account(session, name="𠮷野家ホールディングス")  # 𠮷 is outside Shift_JIS
    session.flush()
    with pytest.raises(InvalidInput, match="cannot be written in Shift_JIS"):
        b"".join(csv_chunks(_export(session, {"q": ["野家"]}), "cp932"))


def test_it_exports_every_page_to_excel(session: Session, accounts: None) -> None:
    for number in range(600):
        make_account(session, name=f"札幌支店{number:03d}")
    session.flush()
    buffer = io.BytesIO()
    count = write_xlsx(_export(session, {"q": ["札幌"], "cols": ["name"]}), buffer, "顧客")
    assert count == 600
    sheet = load_workbook(buffer, read_only=True)["顧客"]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [f"札幌支店{n:03d}" for n in range(600)]
