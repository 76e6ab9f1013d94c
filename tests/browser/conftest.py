"""Browser tests: a real banso server with demo data, driven by Playwright in Debian's chromium.

One server and one browser serve the whole run. Each test signs in through the sign-in form
(``signed_in_page("csm")``) and saves screenshots under ``test-output/screenshots/`` so a
person can look at the pages. Locally, a machine without chromium skips these tests with the
reason; on CI (CI=true) that fails the run instead (`make test` installs chromium).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ON_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
PASSWORD = "browser-test-password"
ROLES = ("admin", "manager", "csm", "viewer")
DEMO_ACCOUNTS = 300
TODAY = date(2026, 11, 22)
HISTORY_FROM = date(2025, 12, 1)

pytestmark = pytest.mark.browser


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (make test installs Debian's chromium)"
    if not (ROOT / "src/banso/web/static/vendor/htmx.min.js").exists():
        return "the front-end libraries are not installed (make install copies them)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = _missing()
    if reason:
        if ON_CI:
            pytest.fail(f"browser tests cannot run on CI: {reason}")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _banso(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "banso", *args], env=env, check=True, capture_output=True)


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict[str, str]

    def email(self, role: str) -> str:
        return f"{role}@browser.example.com"


@pytest.fixture(scope="session")
def live_server(
    browser_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """banso serving demo data (and users of every role) on a free loopback port."""
    data_dir = tmp_path_factory.mktemp("browser-demo")
    env = {**os.environ, "BANSO_DATA_DIR": str(data_dir), "BANSO_DATABASE_URL": ""}
    _banso(env, "init")
    _banso(env, "demo", "--accounts", str(DEMO_ACCOUNTS), "--today", TODAY.isoformat())
    # Weekly scores for a year (the health backtest needs history), then today itself.
    _banso(env, "refresh", "--from", HISTORY_FROM.isoformat(), "--to", TODAY.isoformat(),
           "--every", "7d")  # fmt: skip
    _banso(env, "refresh", "--as-of", TODAY.isoformat())
    for role in ROLES:
        _banso(
            env, "users", "create", f"{role}@browser.example.com", "--name",
            f"{role.capitalize()} テスト", "--role", role, "--password", PASSWORD,
        )  # fmt: skip
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "banso.app:app_from_environment", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError(
                    "the server did not start: " + (data_dir / "server.log").read_text()
                ) from None
            time.sleep(0.2)
    try:
        yield LiveServer(url=url, data_dir=data_dir, env=env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(browser_ready: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(locale="ja-JP")``: a page in a fresh browser profile (no cookies)."""
    contexts: list[Any] = []

    def make(locale: str = "ja-JP", width: int = 1280) -> Any:
        context = browser.new_context(
            locale=locale, viewport={"width": width, "height": 900}, timezone_id="Asia/Tokyo"
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def signed_in_page(live_server: LiveServer, new_page: Callable[..., Any]) -> Callable[..., Any]:
    """``signed_in_page("csm")``: a page signed in (through the form) as a user of that role."""

    def sign_in(role: str = "csm", locale: str = "ja-JP") -> Any:
        page = new_page(locale=locale)
        page.goto(f"{live_server.url}/login")
        page.locator("#email").fill(live_server.email(role))
        page.locator("#password").fill(PASSWORD)
        page.locator("form.stacked-form button[type=submit]").click()
        page.wait_for_url("**/customers*")
        return page

    return sign_in


@pytest.fixture(scope="session")
def _screenshot_dir() -> Path:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(_screenshot_dir: Path) -> Callable[[Any, str], Path]:
    """``screenshot(page, "name")`` saves the whole page as test-output/screenshots/name.png."""

    def take(page: Any, name: str) -> Path:
        page.wait_for_load_state("networkidle")
        path = _screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
