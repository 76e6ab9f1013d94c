"""Turn one spreadsheet cell into a banso value, or say in plain words why it cannot be one.

Cells arrive as text (CSV) or as typed values (.xlsx: numbers, dates, booleans). Every parser
takes either; an empty cell is None. A ValueError's message is shown next to the row and column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from banso.accounts.models import COMPANY_SIZES

Parser = Callable[[Any], Any]

_TRUE = {"true", "1", "yes", "y", "on", "はい", "○", "◯", "✓", "x", "有", "あり"}
_FALSE = {"false", "0", "no", "n", "off", "いいえ", "×", "-", "無", "なし"}
_LIST_SPLIT = re.compile(r"[;,\n\r、；，]+")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH = date(1899, 12, 30)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any) -> str:
    """The cell as text; whole numbers from Excel lose their '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _length(text: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(f"is {len(text):,} characters long; at most {limit:,} fit")
    if "\x00" in text:
        raise ValueError("contains a NUL character (\\x00), which cannot be stored")
    return text


def text(limit: int, *, required: bool = False) -> Parser:
    """Free text up to ``limit`` characters, surrounding spaces removed."""

    def parse(value: Any) -> str | None:
        if is_empty(value):
            if required:
                raise ValueError("is empty; this column needs a value")
            return None
        return _length(as_text(value).strip(), limit)

    return parse


def long_text(limit: int = 100_000) -> Parser:
    """Notes and stories: kept exactly as written, line breaks included."""

    def parse(value: Any) -> str | None:
        if is_empty(value):
            return None
        return _length(as_text(value), limit)

    return parse


def choice(choices: tuple[str, ...]) -> Parser:
    """One of ``choices`` (compared ignoring case and width)."""
    folded = {unicodedata.normalize("NFKC", c).casefold(): c for c in choices}

    def parse(value: Any) -> str | None:
        if is_empty(value):
            return None
        key = unicodedata.normalize("NFKC", as_text(value)).strip().casefold()
        if key not in folded:
            raise ValueError(f"{as_text(value)!r} is not one of: {', '.join(choices)}")
        return folded[key]

    return parse


def boolean(value: Any) -> bool | None:
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    key = unicodedata.normalize("NFKC", as_text(value)).strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{as_text(value)!r} is not yes/no (use true/false, 1/0, はい/いいえ)")


def integer(*, minimum: int = 0, maximum: int = 2**31 - 1) -> Parser:
    def parse(value: Any) -> int | None:
        if is_empty(value):
            return None
        if isinstance(value, bool):
            raise ValueError("is true/false, not a whole number")
        cleaned = unicodedata.normalize("NFKC", as_text(value)).replace(",", "").strip()
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"{as_text(value)!r} is not a whole number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"{as_text(value)!r} is not a whole number")
        if not minimum <= number <= maximum:
            raise ValueError(f"{as_text(value)} is outside {minimum}..{maximum}")
        return int(number)

    return parse


def a_date(value: Any) -> date | None:
    """2026-04-01, 2026/4/1, 2026年4月1日, 20260401, an Excel date cell or an Excel serial."""
    if is_empty(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value)
    cleaned = unicodedata.normalize("NFKC", str(value)).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a real date ({exc})") from None
    if re.fullmatch(r"\d{1,5}(\.\d+)?", cleaned):
        return _excel_serial(float(cleaned))
    raise ValueError(f"{value!r} is not a date (use 2026-04-01 or 2026/4/1)")


def _excel_serial(number: float) -> date:
    if not 1 <= number < 2_958_466:
        raise ValueError(f"{number} is not a date")
    return _EXCEL_EPOCH + timedelta(days=int(number))


def amount_text(value: Any) -> str | None:
    """An amount as written ('¥1,234,000', '1234000円', 1234000); converted once the currency
    of the row is known (see :func:`banso.money.parse_amount`)."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueError("is true/false, not an amount")
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return unicodedata.normalize("NFKC", as_text(value)).strip()


def split_list(value: Any) -> list[str]:
    """'a; b, c' or one item per line → ['a', 'b', 'c'] (order kept, duplicates dropped)."""
    if is_empty(value):
        return []
    parts = (p.strip() for p in _LIST_SPLIT.split(as_text(value)))
    return list(dict.fromkeys(p for p in parts if p))


def company_size(value: Any) -> str | None:
    """A size band ('50-99') or a head count (73 → '50-99')."""
    if is_empty(value):
        return None
    cleaned = unicodedata.normalize("NFKC", as_text(value)).strip().replace("〜", "-")
    cleaned = cleaned.replace("~", "-").replace("名", "").replace("人", "").replace(" ", "")
    if cleaned in COMPANY_SIZES:
        return cleaned
    digits = cleaned.replace(",", "")
    if digits.isdigit():
        return _size_band(int(digits))
    raise ValueError(f"{as_text(value)!r} is not a head count or one of {', '.join(COMPANY_SIZES)}")


def _size_band(count: int) -> str:
    for band in COMPANY_SIZES[:-1]:
        high = int(band.split("-")[1])
        if count <= high:
            return band
    return COMPANY_SIZES[-1]


def has_japanese(value: str) -> bool:
    """True when the text has kana or kanji, so a name is written family name first."""
    return any(
        "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uff66" <= ch <= "\uff9f"
        for ch in value
    )


def full_name(last: str | None, first: str | None) -> str | None:
    """姓 名 for Japanese names ('山田 太郎'), 'First Last' for names in Latin letters."""
    parts = [p.strip() for p in (last, first) if p and p.strip()]
    if len(parts) < 2:
        return parts[0] if parts else None
    family, given = parts
    if has_japanese(family) or has_japanese(given):
        return f"{family} {given}"
    return f"{given} {family}"


def kana_name(last: str | None, first: str | None) -> str | None:
    """Readings are always written family name first: 'ヤマダ タロウ'."""
    parts = [p.strip() for p in (last, first) if p and p.strip()]
    return " ".join(parts) or None


def domain_list(value: Any) -> list[str]:
    """Web domains or URLs ('https://www.example.co.jp/', 'example.com; example.jp')."""
    from banso.accounts.identity import normalize_domain

    domains = [normalize_domain(part) for part in split_list(value)]
    if len(domains) > 50:
        raise ValueError(f"has {len(domains)} domains; at most 50 fit")
    return sorted(dict.fromkeys(domains))


def tag_list(value: Any) -> list[str]:
    tags = [_length(tag, 100) for tag in split_list(value)]
    if len(tags) > 100:
        raise ValueError(f"has {len(tags)} tags; at most 100 fit")
    return sorted(tags)


def is_empty_all(cells: list[Any]) -> bool:
    return all(is_empty(c) for c in cells)
