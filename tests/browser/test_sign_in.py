"""Signing in, a wrong password, the language switch and signing out, in a real browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_it_signs_in_after_a_wrong_password_and_signs_out(
    live_server: Any, new_page: Callable[..., Any], screenshot: Callable[[Any, str], Any]
) -> None:
    page = new_page(locale="ja-JP")
    page.goto(f"{live_server.url}/customers?q=東京")
    page.wait_for_url(re.compile(r"/login\?next="))
    screenshot(page, "sign-in")

    page.get_by_label("メールアドレス").fill(live_server.email("csm"))
    page.get_by_label("パスワード").fill("not the password")
    page.get_by_role("button", name="ログイン").click()
    assert page.get_by_role("alert").inner_text().strip()
    screenshot(page, "sign-in-wrong-password")

    page.get_by_label("パスワード").fill("browser-test-password")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r"/customers\?q="))  # back where the visitor wanted to go
    assert page.locator("#q").input_value() == "東京"

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url("**/login")
    page.goto(f"{live_server.url}/customers")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert page.js_errors == []


def test_it_switches_the_language_and_keeps_it(
    signed_in_page: Callable[..., Any], screenshot: Callable[[Any, str], Any]
) -> None:
    page = signed_in_page("viewer", locale="ja-JP")
    assert page.get_by_role("heading", name="顧客").is_visible()
    page.get_by_label("表示言語").select_option("en")
    page.wait_for_load_state("load")
    page.get_by_role("heading", name="Customers").wait_for()
    assert page.get_by_label("Search customers").is_visible()
    screenshot(page, "customer-list-english")

    # The choice stays with the user: another page, then back in Japanese.
    page.get_by_role("link", name="Duplicates").click()
    page.get_by_role("heading", name="Duplicates", exact=False).first.wait_for()
    page.get_by_label("Language").select_option("ja")
    main_nav = page.get_by_role("navigation", name="メイン")
    main_nav.get_by_role("link", name="顧客", exact=True).wait_for()
    assert page.js_errors == []
