"""The customer list in a real browser: Japanese search, a filter, a sort and a saved segment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("banso.web", reason="the browser tests run on the web shell (banso.web)")
pytestmark = pytest.mark.browser


def _base(live_server: Any) -> str:
    return str(getattr(live_server, "url", live_server)).rstrip("/")


def _names(page: Any) -> list[str]:
    return page.locator("table.customer-table td.col-name a").all_inner_texts()


@pytest.mark.parametrize("width", [1280, 768])
def test_it_searches_filters_sorts_and_saves_a_segment(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
) -> None:
    page = signed_in_page("csm")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{_base(live_server)}/customers")
    screenshot(page, f"customer-list-{width}")

    # Live search in Japanese: the results change without a page load.
    page.get_by_label("顧客を検索").fill("東京")
    page.wait_for_url("**q=*")
    page.wait_for_function("document.querySelector('#q') && location.search.includes('q=')")
    names = _names(page)
    assert names, "a search for 東京 in the demo data finds customers"
    assert any("東京" in name for name in names)
    screenshot(page, f"customer-list-search-{width}")

    # A filter: only stable accounts remain, and the chip says so.
    page.get_by_text("絞り込み", exact=True).click()
    page.get_by_label("安定運用").check()
    page.wait_for_url("**f.stage=stable*")
    assert page.locator("ul.active-filters").inner_text().count("安定運用") == 1
    stages = page.locator("table.customer-table td.col-stage").all_inner_texts()
    assert stages and set(stages) == {"安定運用"}

    # Sort by MRR, largest first (a click on the header, then another).
    page.get_by_role("link", name="MRR", exact=True).click()
    page.wait_for_url("**sort=mrr*")
    page.get_by_role("link", name="MRR", exact=True).click()
    page.wait_for_url("**sort=-mrr*")
    screenshot(page, f"customer-list-sorted-{width}")

    # Save the view as a segment; it appears in the sidebar for everyone.
    page.get_by_label("この表示をセグメントとして保存").fill(f"東京の安定顧客 {width}")
    page.get_by_role("button", name="セグメントを保存").click()
    page.wait_for_url("**segment=*")
    sidebar = page.locator(".segment-sidebar")
    assert f"東京の安定顧客 {width}" in sidebar.inner_text()
    screenshot(page, f"customer-list-segment-{width}")
