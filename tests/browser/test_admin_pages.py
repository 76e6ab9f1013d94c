"""The admin pages in a real browser, at desktop and tablet width: nothing spills sideways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PAGES = ["/admin", "/admin/users", "/admin/users/new", "/admin/custom-fields",
         "/admin/taxonomies", "/admin/keys", "/admin/audit"]  # fmt: skip


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize("width", [1280, 768])
def test_it_lays_out_every_admin_page(
    live_server: Any,
    new_page: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
    width: int,
) -> None:
    page = new_page(locale="en-US", width=width)
    page.goto(f"{live_server.url}/login")
    page.locator("#email").fill(live_server.email("admin"))
    page.locator("#password").fill("browser-test-password")
    page.locator("form.stacked-form button[type=submit]").click()
    page.wait_for_url("**/customers*")
    for path in PAGES:
        page.goto(f"{live_server.url}{path}")
        assert page.locator("h1").count() == 1, path
        name = "admin" + path.removeprefix("/admin").replace("/", "-")
        screenshot(page, f"{name}-{width}")
        assert _fits(page), (path, width)
    # A new token is shown once, in a panel that fits too.
    page.goto(f"{live_server.url}/admin/keys")
    page.get_by_label("Name", exact=True).first.fill("Browser token")
    page.get_by_role("button", name="Create the token").click()
    secret = page.get_by_label("The new key")
    assert secret.input_value().startswith("banso_")
    screenshot(page, f"admin-keys-new-token-{width}")
    assert _fits(page)
    # The audit log filtered to users, with the token's creation in it.
    page.goto(f"{live_server.url}/admin/audit?entity=api_token")
    assert page.locator("tr[data-entry]").count() >= 1
    screenshot(page, f"admin-audit-filtered-{width}")
    assert page.js_errors == []
