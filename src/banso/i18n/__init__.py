"""Languages: gettext catalogs (Babel .po files shipped in the package) and local formats.

The language of the current request lives in a context variable that the web layer sets for
each request (``use_locale``); ``gettext`` and the ``format_*`` functions read it. Outside a
request the default, Japanese, applies.
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

from banso.money import CURRENCY_DIGITS

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
LOCALE_NAMES = {"ja": "日本語", "en": "English"}
CATALOG_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"

_locale: ContextVar[str] = ContextVar("banso_locale", default=DEFAULT_LOCALE)
_timezone: ContextVar[str] = ContextVar("banso_timezone", default="Asia/Tokyo")


def catalog_path(locale: str) -> Path:
    return CATALOG_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``locale`` (compiled in memory from the shipped .po file)."""
    path = catalog_path(locale)
    if locale not in LOCALES or not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def current_locale() -> str:
    return _locale.get()


def current_timezone() -> str:
    return _timezone.get()


@contextmanager
def use_locale(locale: str, timezone: str | None = None) -> Iterator[None]:
    """Run the block in ``locale`` (and ``timezone`` for dates and times)."""
    token = _locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    tz_token = _timezone.set(timezone) if timezone else None
    try:
        yield
    finally:
        _locale.reset(token)
        if tz_token is not None:
            _timezone.reset(tz_token)


def gettext(message: str) -> str:
    return translations(_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_locale.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is defined; ``gettext`` translates it where
    it is shown."""
    return message


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header (Japanese if none fits)."""
    if not accept_language:
        return DEFAULT_LOCALE
    wanted: list[tuple[float, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        # Earlier entries win ties, as browsers mean them.
        wanted.append((quality - position * 1e-6, tag.strip().lower()))
    for _quality, tag in sorted(wanted, reverse=True):
        language = tag.split("-")[0]
        if language in LOCALES and _quality > 0:
            return language
    return DEFAULT_LOCALE


@cache
def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse({"ja": "ja_JP", "en": "en_US"}.get(locale, locale))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("ja_JP")


def format_number(value: int | float | Decimal | None, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if digits is not None:
        value = round(Decimal(str(value)), digits)
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return format_decimal(value, format=pattern, locale=_babel_locale(_locale.get()))
    return format_decimal(value, locale=_babel_locale(_locale.get()))


def format_money(minor: int | None, currency: str = "JPY") -> str:
    """Integer minor units as '¥1,234,000' (or '$12.50')."""
    if minor is None:
        return "—"
    digits = CURRENCY_DIGITS.get(currency, 0)
    amount = Decimal(minor).scaleb(-digits)
    text = format_currency(amount, currency, locale=_babel_locale(_locale.get()))
    # CLDR's Japanese yen sign is the full-width one; Japanese business documents use ¥.
    return text.replace("￥", "¥")


def format_date(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(_timezone.get())).date()
    if _locale.get() == "ja" and style == "medium":
        return f"{value.year}/{value.month:02d}/{value.day:02d}"
    return _format_date(value, format=style, locale=_babel_locale(_locale.get()))


def format_datetime(value: datetime | None) -> str:
    """A moment shown in the workspace's timezone (JST unless configured otherwise)."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(_timezone.get()))
    if _locale.get() == "ja":
        return f"{local.year}/{local.month:02d}/{local.day:02d} {local:%H:%M}"
    return _format_datetime(local, format="medium", locale=_babel_locale(_locale.get()))
