"""Japanese and English: chosen per user, defaulting to the browser's; local formats; catalogs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.i18n import (
    LOCALES,
    format_date,
    format_datetime,
    format_money,
    format_number,
    negotiate,
    use_locale,
)
from banso.i18n.catalog import extract, missing
from banso.web.security import LANGUAGE_COOKIE
from tests.conftest import Person
from tests.web.conftest import SignIn, form_token


def test_every_message_is_in_both_catalogs() -> None:
    messages = extract()
    assert len(messages) > 150
    for locale in LOCALES:
        lacking = missing(locale, messages)
        assert lacking == [], (
            f"{len(lacking)} messages missing from the {locale} catalog; run "
            f"`python -m banso.i18n.catalog update` and translate them: {lacking[:10]}"
        )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("ja,en-US;q=0.9", "ja"),
        ("fr-FR,en;q=0.5", "en"),
        ("fr-FR", "ja"),
        ("", "ja"),
        ("en;q=0, ja;q=0.1", "ja"),
        ("garbage;;q=x,,", "ja"),
    ],
)
def test_it_takes_the_language_from_the_browser(header: str, expected: str) -> None:
    assert negotiate(header) == expected


def test_it_shows_the_page_in_the_browsers_language(app: FastAPI) -> None:
    with TestClient(app) as client:
        japanese = client.get("/login", headers={"Accept-Language": "ja"})
        english = client.get("/login", headers={"Accept-Language": "en-GB"})
    assert '<html lang="ja">' in japanese.text and "ログイン" in japanese.text
    assert '<html lang="en">' in english.text and "Sign in" in english.text


def test_it_remembers_a_users_language_everywhere(
    signed_in: SignIn, bob: Person, session: Session, app: FastAPI
) -> None:
    client = signed_in(bob)
    page = client.get("/customers")
    assert "Search customers" in page.text
    answer = client.post(
        "/language",
        data={"locale": "ja", "next": "/customers?q=東京", "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert unquote(answer.headers["location"]) == "/customers?q=東京"
    assert client.cookies.get(LANGUAGE_COOKIE) == "ja"
    session.refresh(bob.user)
    assert bob.user.locale == "ja"
    assert "顧客を検索" in client.get("/customers").text
    # Another browser that asks for English gets Japanese once bob signs in there.
    other = signed_in(bob)
    assert other.cookies.get(LANGUAGE_COOKIE) == "ja"


def test_it_refuses_an_unknown_language(signed_in: SignIn, bob: Person) -> None:
    client = signed_in(bob)
    token = form_token(client.get("/customers").text)
    answer = client.post("/language", data={"locale": "xx<script>", "csrf_token": token})
    assert answer.status_code == 422
    assert "<script>" not in answer.text


def test_it_formats_money_numbers_and_dates_for_the_language() -> None:
    moment = datetime(2026, 11, 22, 20, 30, tzinfo=UTC)  # 05:30 the next morning in Tokyo
    with use_locale("ja", "Asia/Tokyo"):
        assert format_money(1_234_000, "JPY") == "¥1,234,000"
        assert format_number(1234567) == "1,234,567"
        assert format_date(date(2026, 4, 1)) == "2026/04/01"
        assert format_datetime(moment) == "2026/11/23 05:30"
        assert format_date(moment) == "2026/11/23"
    with use_locale("en", "Asia/Tokyo"):
        assert format_money(1_234_000, "JPY") == "¥1,234,000"
        assert format_money(1250, "USD") == "$12.50"
        assert format_date(date(2026, 4, 1)) == "Apr 1, 2026"
        assert "5:30" in format_datetime(moment)
    with use_locale("en", "America/New_York"):
        assert format_date(moment) == "Nov 22, 2026"
