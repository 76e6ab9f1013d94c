"""Read CSV (UTF-8 or Shift_JIS/CP932, any delimiter Excel writes) and .xlsx as a row stream.

Nothing here holds the whole file: CSV is decoded and split as it is read, .xlsx goes
through openpyxl's read-only mode, so memory stays flat however large the file is.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from banso.errors import InvalidInput

ENCODINGS = {
    "utf-8": "utf-8-sig",
    "utf8": "utf-8-sig",
    "utf-8-sig": "utf-8-sig",
    "cp932": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
}
DELIMITERS = {",": ",", "comma": ",", "\t": "\t", "tab": "\t", ";": ";", "semicolon": ";"}
# A cell may be large (a long note); the field validators say which cells are too long.
MAX_CELL_CHARS = 32 * 1024 * 1024
_SAMPLE_BYTES = 64 * 1024
_SCAN_BYTES = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class Table:
    """A header and the data rows after it, numbered as a spreadsheet shows them (header = 1)."""

    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    size_bytes: int
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    position: _Position = field(default_factory=lambda: _Position())

    @property
    def bytes_read(self) -> int:
        return self.position.value


@dataclass
class _Position:
    value: int = 0


def _bad_file(message: str) -> InvalidInput:
    return InvalidInput.one("file", message)


def _encoding_option(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    codec = ENCODINGS.get(encoding.strip().lower())
    if codec is None:
        raise InvalidInput.one("encoding", f"unknown encoding {encoding!r}; use utf-8 or cp932")
    return codec


def _delimiter_option(delimiter: str | None) -> str | None:
    if delimiter is None:
        return None
    found = DELIMITERS.get(delimiter if delimiter == "\t" else delimiter.strip().lower())
    if found is None:
        raise InvalidInput.one(
            "delimiter", f"unknown delimiter {delimiter!r}; use comma, tab or semicolon"
        )
    return found


def detect_encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes strictly as UTF-8 (checked in chunks), else CP932."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return "cp932"
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp932"
    return "utf-8-sig"


def sniff_delimiter(sample: str) -> str:
    """The delimiter of ``sample`` (comma, tab or semicolon), comma when nothing says otherwise."""
    cut = sample.rfind("\n")
    text = sample[: cut + 1] if cut > 0 else sample
    try:
        return csv.Sniffer().sniff(text, delimiters=",\t;").delimiter
    except csv.Error:
        first_line = text.splitlines()[0] if text else ""
        counts = {d: first_line.count(d) for d in ",\t;"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


class _CountingReader(io.RawIOBase):
    """Counts the bytes handed to the decoder, so progress can be shown in bytes of the file."""

    def __init__(self, raw: IO[bytes], position: _Position) -> None:
        self._raw = raw
        self._position = position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._position.value += len(data)
        return len(data)


def _clean_header(cells: list[Any]) -> list[str]:
    header = []
    for cell in cells:
        text = "" if cell is None else str(cell)
        header.append(text.lstrip("\ufeff").strip())
    return header


def _is_blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _csv_rows(
    reader: Iterator[list[str]], encoding: str, first_row: int
) -> Iterator[tuple[int, list[Any]]]:
    number = first_row
    try:
        for cells in reader:
            number += 1
            if not _is_blank(cells):
                yield number, list(cells)
    except UnicodeDecodeError as exc:
        raise _bad_file(
            f"the file has bytes that are not {_encoding_name(encoding)} (near row "
            f"{number + 1}: {exc.reason}); save it as CSV UTF-8 or pass the right --encoding"
        ) from None
    except csv.Error as exc:
        raise _bad_file(f"row {number + 1}: the file is not valid CSV ({exc})") from None


def _encoding_name(codec: str) -> str:
    return "UTF-8" if codec.startswith("utf") else "Shift_JIS/CP932"


def _sniff_format(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        raise _bad_file(
            "this is an old Excel .xls file; save it as .xlsx or CSV (UTF-8) and import that"
        )
    return "csv"


def _open_csv(path: Path, handle: IO[bytes], encoding: str | None, delimiter: str | None) -> Table:
    csv.field_size_limit(MAX_CELL_CHARS)
    size = os.fstat(handle.fileno()).st_size
    head = handle.read(_SAMPLE_BYTES)
    if b"\x00" in head:
        raise _bad_file(
            "the file contains NUL bytes, so it is not a text CSV; export it again as CSV "
            "(UTF-8 or Shift_JIS) or .xlsx"
        )
    codec = encoding or detect_encoding(path)
    handle.seek(0)
    position = _Position()
    text = io.TextIOWrapper(
        io.BufferedReader(_CountingReader(handle, position)), encoding=codec, newline=""
    )
    try:
        sample = codecs.getincrementaldecoder(codec)("ignore").decode(head)
        chosen = delimiter or sniff_delimiter(sample)
        reader = csv.reader(text, delimiter=chosen, quotechar='"', doublequote=True, strict=False)
        header_cells = next(reader, None)
    except UnicodeDecodeError as exc:
        raise _bad_file(
            f"the file has bytes that are not {_encoding_name(codec)} (near the start: "
            f"{exc.reason}); save it as CSV UTF-8 or pass the right --encoding"
        ) from None
    except csv.Error as exc:
        raise _bad_file(f"row 1: the file is not valid CSV ({exc})") from None
    if header_cells is None or _is_blank(header_cells):
        raise _bad_file("the file is empty: the first row must name the columns")
    return Table(
        header=_clean_header(header_cells),
        rows=_csv_rows(reader, codec, 1),
        size_bytes=size,
        format="csv",
        encoding=codec,
        delimiter=chosen,
        position=position,
    )


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def ooxml_unescape(value: str) -> str:
    """Excel writes control characters as _xHHHH_ (and a literal '_x' as _x005F_x)."""
    if "_x" not in value:
        return value
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _xlsx_rows(
    rows: Iterator[tuple[Any, ...]], position: _Position, size: int, total: int
) -> Iterator[tuple[int, list[Any]]]:
    number = 1
    for cells in rows:
        number += 1
        if total:
            position.value = min(size, size * number // total)
        values = [ooxml_unescape(c) if isinstance(c, str) else c for c in cells]
        if not _is_blank(values):
            yield number, values
    position.value = size


def _open_xlsx(path: Path, handle: IO[bytes], sheet: str | None) -> tuple[Table, Any]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # A file object, so the name (an upload, 'export.csv') does not decide the format.
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise _bad_file(
            f"the .xlsx file cannot be read ({exc}); save it again from Excel"
        ) from None
    names = workbook.sheetnames
    if sheet is not None and sheet not in names:
        workbook.close()
        raise InvalidInput.one("sheet", f"no sheet {sheet!r}; the workbook has {names}")
    worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    rows = worksheet.iter_rows(values_only=True)
    header_cells = next(rows, None)
    if header_cells is None or _is_blank(list(header_cells)):
        workbook.close()
        raise _bad_file("the sheet is empty: the first row must name the columns")
    size = path.stat().st_size
    position = _Position()
    total = worksheet.max_row or 0
    table = Table(
        header=_clean_header(list(header_cells)),
        rows=_xlsx_rows(rows, position, size, total),
        size_bytes=size,
        format="xlsx",
        position=position,
    )
    return table, workbook


@contextmanager
def open_table(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Iterator[Table]:
    """Open a CSV or .xlsx file (told apart by content, not name) as a :class:`Table`."""
    codec = _encoding_option(encoding)
    chosen = _delimiter_option(delimiter)
    if not path.is_file():
        raise _bad_file(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise _bad_file("the file is empty: the first row must name the columns")
    with path.open("rb") as handle:
        if _sniff_format(path) != "xlsx":
            yield _open_csv(path, handle, codec, chosen)
            return
        table, workbook = _open_xlsx(path, handle, sheet)
        try:
            yield table
        finally:
            workbook.close()
