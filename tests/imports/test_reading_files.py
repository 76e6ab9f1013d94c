"""Files as Excel, Salesforce and HubSpot write them: encodings, delimiters, .xlsx, bad files."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from banso.errors import InvalidInput
from banso.imports.readers import open_table
from tests.imports.helpers import write_csv, write_xlsx

ROWS = [
    ["会社名", "Website", "メモ"],
    ["株式会社さくら", "sakura.co.jp", '一行目\n二行目, 引用符"あり"'],
    ["ひかり商事", "hikari.jp", ""],
]


def _read(
    path: Path, **options: str
) -> tuple[list[str], list[tuple[int, list[object]]], str | None]:
    with open_table(path, **options) as table:  # type: ignore[arg-type]
        return table.header, list(table.rows), table.delimiter


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-8", False, ","),
        ("utf-8", True, ","),
        ("cp932", False, ","),
        ("utf-8", True, "\t"),
        ("cp932", False, ";"),
    ],
)
def test_it_reads_csv_in_any_encoding_and_delimiter_excel_writes(
    tmp_path: Path, encoding: str, bom: bool, delimiter: str
) -> None:
    path = write_csv(tmp_path / "in.csv", ROWS, encoding=encoding, bom=bom, delimiter=delimiter)
    header, rows, found = _read(path)
    assert header == ROWS[0]
    assert found == delimiter
    assert rows == [(2, ROWS[1]), (3, ROWS[2])]


def test_it_reads_the_first_sheet_of_an_xlsx_or_the_one_named(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.append(["name", "start_date"])
    first.append(["さくら", datetime(2026, 4, 1)])
    second = workbook.create_sheet("契約")
    second.append(["plan"])
    second.append(["Standard"])
    workbook.save(tmp_path / "book.xlsx")
    header, rows, _ = _read(tmp_path / "book.xlsx")
    assert header == ["name", "start_date"]
    assert rows == [(2, ["さくら", datetime(2026, 4, 1)])]
    header, rows, _ = _read(tmp_path / "book.xlsx", sheet="契約")
    assert (header, rows) == (["plan"], [(2, ["Standard"])])
    with pytest.raises(InvalidInput, match="no sheet 'nope'"):
        _read(tmp_path / "book.xlsx", sheet="nope")


def test_it_tells_xlsx_from_csv_by_content_not_by_name(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "book.xlsx", [["name"], ["さくら"]])
    (tmp_path / "book.xlsx").rename(tmp_path / "export.csv")
    header, rows, _ = _read(tmp_path / "export.csv")
    assert (header, rows) == (["name"], [(2, ["さくら"])])


def test_it_obeys_a_forced_encoding_and_delimiter(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", [["a;b", "c"], ["1;2", "3"]], delimiter="\t")
    header, _, _ = _read(path, delimiter="semicolon")
    assert header == ["a", "b\tc"]
    sjis = write_csv(tmp_path / "sjis.csv", [["名前"], ["山田"]], encoding="cp932")
    with pytest.raises(InvalidInput, match="bytes that are not UTF-8"):
        _read(sjis, encoding="utf-8")


def test_it_refuses_unknown_encoding_or_delimiter_options(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "in.csv", ROWS)
    with pytest.raises(InvalidInput, match="unknown encoding 'latin9'"):
        _read(path, encoding="latin9")
    with pytest.raises(InvalidInput, match="unknown delimiter"):
        _read(path, delimiter="|")


def test_it_refuses_binary_garbage_empty_files_and_old_xls(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(os.urandom(4096) + b"\x00")
    with pytest.raises(InvalidInput, match="NUL bytes"):
        _read(garbage)
    no_nul = tmp_path / "noise.csv"
    no_nul.write_bytes(b"name\n" + bytes(range(0x80, 0x100)) * 8)
    with pytest.raises(InvalidInput, match="bytes that are not Shift_JIS/CP932"):
        _read(no_nul)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match="the file is empty"):
        _read(empty)
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\r\n,,\r\n")
    with pytest.raises(InvalidInput, match="the file is empty"):
        _read(blank)
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(InvalidInput, match=r"old Excel \.xls"):
        _read(xls)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InvalidInput, match="cannot be read"):
        _read(broken)


def test_it_reads_a_header_only_file_as_no_rows_and_skips_blank_rows(tmp_path: Path) -> None:
    header, rows, _ = _read(write_csv(tmp_path / "h.csv", [["name", "domains"]]))
    assert (header, rows) == (["name", "domains"], [])
    _, rows, _ = _read(write_csv(tmp_path / "b.csv", [["name"], [""], ["さくら"], [" "]]))
    assert rows == [(3, ["さくら"])]


def test_it_reads_a_10_mb_cell_whole(tmp_path: Path) -> None:
    big = "あ" * 10_000_000
    _, rows, _ = _read(write_csv(tmp_path / "big.csv", [["name", "note"], ["x", big]]))
    assert rows[0][1][1] == big
