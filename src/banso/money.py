"""Money is an integer count of a currency's minor unit; never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit digits for the currencies our users bill in.
CURRENCY_DIGITS: dict[str, int] = {
    "JPY": 0,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CNY": 2,
    "KRW": 0,
    "TWD": 2,
    "SGD": 2,
    "AUD": 2,
}


def parse_amount(text: str, currency: str) -> int:
    """Parse '¥1,234,000', '1234.50' or '1,234円' into minor units of ``currency``."""
    digits = CURRENCY_DIGITS[currency]
    cleaned = (
        text.strip()
        .replace(",", "")
        .replace("，", "")
        .replace("¥", "")
        .replace("￥", "")
        .replace("$", "")
        .replace("円", "")
        .replace(" ", "")
    )
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not an amount") from exc
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} has more than {digits} decimal places for {currency}")
    return int(scaled)


def format_amount(minor: int, currency: str) -> str:
    """Minor units back to a plain decimal string ('1234000', '12.50')."""
    digits = CURRENCY_DIGITS.get(currency, 0)
    if digits == 0:
        return str(minor)
    return str(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)))
