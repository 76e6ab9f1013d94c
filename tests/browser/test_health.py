"""Health in a real browser: a customer's health and a rating, the work queues, the backtest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import HISTORY_FROM, SCREENSHOTS, TODAY

pytestmark = pytest.mark.browser

WIDTHS = [1280, 768]


def _page(signed_in_page: Callable[[str], Any], role: str, width: int) -> Any:
    page = signed_in_page(role)
    page.set_viewport_size({"width": width, "height": 900})
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_it_shows_a_customers_health_and_takes_a_rating(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
) -> None:
    page = _page(signed_in_page, "csm", width)
    page.goto(f"{live_server.url}/customers?sort=-mrr")
    page.locator("table.customer-table td.col-name a").first.click()
    slot = page.locator("#slot-health")
    slot.locator(".hl-score").first.wait_for()
    assert slot.locator(".hl-band").first.is_visible()
    assert slot.locator("canvas[data-chart]").count() >= 1
    assert "評価項目" in slot.inner_text()
    page.wait_for_load_state("networkidle")
    slot.scroll_into_view_if_needed()
    screenshot(page, f"health-customer-{width}")
    slot.screenshot(path=str(SCREENSHOTS / f"health-slot-{width}.png"))

    slot.locator("details.hl-rate summary").click()
    form = slot.locator("details.hl-rate form")
    form.locator("input[name=value]").fill("150")
    form.locator("button[type=submit]").click()
    slot.locator(".hl-error").first.wait_for()
    assert "0〜100 の数値を入力してください。" in slot.inner_text()
    slot.locator("input[name=value]").fill("75")
    slot.locator("textarea[name=comment]").fill(f"定例会で前向き {width}")
    slot.locator("details.hl-rate button[type=submit]").click()
    slot.get_by_text(f"定例会で前向き {width}").wait_for()
    assert page.js_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_it_shows_the_work_queues(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
) -> None:
    page = _page(signed_in_page, "csm", width)
    page.locator("nav.mainnav a[href='/health/queues']").click()
    page.wait_for_url("**/health/queues")
    rows = page.locator("table.hl-queue tbody tr")
    assert rows.count() > 0
    screenshot(page, f"health-queues-{width}")
    page.get_by_role("link", name="拡大").click()
    page.wait_for_url("**tab=expansion")
    assert page.locator("table.hl-queue tbody tr").count() > 0
    # The customers with the most MRR come first.
    page.locator("th[aria-sort='descending']").wait_for()
    assert page.js_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_it_backtests_the_score_for_a_manager(
    live_server: Any,
    signed_in_page: Callable[[str], Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
) -> None:
    page = _page(signed_in_page, "manager", width)
    page.goto(f"{live_server.url}/health/backtest?from={HISTORY_FROM}&to={TODAY}&horizon=90")
    auc = page.locator(".hl-kpis dd").first.inner_text()
    assert auc.startswith("0.") and float(auc) > 0.5
    assert page.locator("canvas[data-chart]").count() == 1
    assert "推奨ウェイト" in page.inner_text("main")
    assert page.get_by_role("button", name="バージョン 2 として適用").is_visible()
    screenshot(page, f"health-backtest-{width}")
    assert page.js_errors == []
