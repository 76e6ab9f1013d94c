"""Merging two duplicate customers from the duplicates page, in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("banso.web", reason="the browser tests run on the web shell (banso.web)")
pytestmark = pytest.mark.browser


def _base(live_server: Any) -> str:
    return str(getattr(live_server, "url", live_server)).rstrip("/")


@pytest.mark.parametrize("width", [1280, 768])
def test_it_merges_from_the_duplicates_page(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
) -> None:
    page = signed_in_page("csm")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{_base(live_server)}/duplicates")
    rows = page.locator(".c360-table tbody tr")
    assert rows.count() > 0, "the demo data has likely duplicates"
    screenshot(page, f"duplicates-{width}")

    rows.first.locator("a.primary").click()
    page.wait_for_selector("form.c360-confirm")
    kept = page.locator(".c360-merge-pair .c360-card").nth(1).locator("a").inner_text()
    screenshot(page, f"merge-preview-{width}")

    page.locator("form.c360-confirm button[type=submit]").click()
    page.wait_for_selector(".c360-card[role=status]")
    screenshot(page, f"merge-result-{width}")
    page.locator(".c360-card[role=status] a.primary").click()
    page.wait_for_selector(".c360-header")
    assert kept in page.locator(".c360-header h1").inner_text()
