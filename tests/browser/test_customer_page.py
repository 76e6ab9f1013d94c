"""The customer page in a real browser: an inline edit and a conflicting edit from two people."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("banso.web", reason="the browser tests run on the web shell (banso.web)")
pytestmark = pytest.mark.browser


def _base(live_server: Any) -> str:
    return str(getattr(live_server, "url", live_server)).rstrip("/")


def _open_a_customer(page: Any, base: str) -> str:
    """The biggest customer of the list, as a user would reach it; returns its page address."""
    page.goto(f"{base}/customers?sort=-mrr")
    page.locator("table.customer-table td.col-name a").first.click()
    page.wait_for_selector(".c360-header")
    return str(page.url).split("#")[0]


def _shown(page: Any, field: str, text: str) -> Any:
    value = page.locator(f".c360-side [id$='-{field}'] .c360-field-value")
    return value.filter(has_text=text)


def _edit(page: Any, field: str) -> Any:
    box = page.locator(f".c360-side [id^='field-account-'][id$='-{field}']")
    box.locator("a.c360-edit").click()
    form = page.locator(f".c360-editing[id$='-{field}']")
    form.wait_for()
    return form


@pytest.mark.parametrize("width", [1280, 768])
def test_it_edits_a_field_in_place(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
) -> None:
    page = signed_in_page("csm")
    page.set_viewport_size({"width": width, "height": 900})
    _open_a_customer(page, _base(live_server))
    page.wait_for_load_state("networkidle")
    screenshot(page, f"customer-page-{width}")

    form = _edit(page, "segment")
    form.locator("input[name=value]").fill(f"エンタープライズ {width}")
    screenshot(page, f"customer-page-editing-{width}")
    form.locator("button[type=submit]").click()

    shown = page.locator(".c360-side [id$='-segment'] .c360-field-value")
    shown.filter(has_text=f"エンタープライズ {width}").wait_for()
    page.locator(".c360-editing").wait_for(state="detached")
    page.reload()
    assert f"エンタープライズ {width}" in shown.inner_text()


def test_it_tells_the_second_editor_and_lets_them_reapply(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
) -> None:
    first, second = signed_in_page("csm"), signed_in_page("admin")
    url = _open_a_customer(first, _base(live_server))
    second.goto(url)
    mine, theirs = _edit(first, "industry"), _edit(second, "industry")

    mine.locator("input[name=value]").fill("小売")
    mine.locator("button[type=submit]").click()
    first.locator(".c360-side [id$='-industry'] .c360-field-value").filter(
        has_text="小売"
    ).wait_for()

    theirs.locator("input[name=value]").fill("物流")
    theirs.locator("button[type=submit]").click()
    alert = second.locator(".c360-conflict")
    alert.wait_for()
    assert "小売" in alert.locator(".c360-theirs").inner_text()
    assert "物流" in alert.locator(".c360-mine").inner_text()
    screenshot(second, "customer-page-conflict")

    second.locator(".c360-editing button[type=submit]").click()  # "save mine" after comparing
    second.locator(".c360-side [id$='-industry'] .c360-field-value").filter(
        has_text="物流"
    ).wait_for()
    first.reload()
    assert "物流" in first.locator(".c360-side [id$='-industry'] .c360-field-value").inner_text()
