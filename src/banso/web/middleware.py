"""Per request: the language and timezone; per response: security headers, the cookies and
flash messages the views queued (``banso.web.flash``)."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banso.i18n import LOCALES, negotiate, use_locale
from banso.web import flash as flashes
from banso.web.security import LANGUAGE_COOKIE, PRE_COOKIE, SESSION_COOKIE

# Pages load scripts and styles from banso itself only; templates keep small <style> blocks.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
ONE_YEAR = 365 * 24 * 3600


def is_web_path(path: str) -> bool:
    """Pages (not the REST API, not Segment ingestion)."""
    return not (path.startswith(("/api/", "/v1/", "/static/")) or path == "/healthz")


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LOCALES:
        return str(chosen)
    return negotiate(request.headers.get("accept-language"))


def cookie_header(
    name: str,
    value: str,
    *,
    secure: bool,
    max_age: int | None = None,
    http_only: bool = True,
) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar[name] = value
    morsel = jar[name]
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    if max_age is not None:
        morsel["max-age"] = max_age
    if http_only:
        morsel["httponly"] = True
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


def is_secure(request: Request) -> bool:
    settings = request.app.state.settings
    return bool(settings.secure_cookies) or request.url.scheme == "https"


class WebMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        web = is_web_path(scope["path"])
        locale = locale_of(request) if web else "en"
        state = scope.setdefault("state", {})
        state["locale"] = locale
        settings = scope["app"].state.settings

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if web:
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                    headers.setdefault("Cache-Control", "no-store")
                    self._cookies(request, state, headers, message["status"])
            await send(message)

        with use_locale(locale, settings.timezone):
            await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _cookies(
        request: Request, state: dict[str, Any], headers: MutableHeaders, status: int
    ) -> None:
        secure = is_secure(request)
        if state.get("new_pre_cookie"):
            headers.append(
                "set-cookie", cookie_header(PRE_COOKIE, state["new_pre_cookie"], secure=secure)
            )
        if state.get("session_cookie"):
            headers.append(
                "set-cookie",
                cookie_header(SESSION_COOKIE, state["session_cookie"], secure=secure),
            )
        elif state.get("session_ended"):
            headers.append(
                "set-cookie", cookie_header(SESSION_COOKIE, "", secure=secure, max_age=0)
            )
        if state.get("language_cookie"):
            headers.append(
                "set-cookie",
                cookie_header(
                    LANGUAGE_COOKIE, state["language_cookie"], secure=secure, max_age=ONE_YEAR
                ),
            )
        waiting = flashes.pending(request) if not state.get("flashes_shown") else []
        carried = bool(request.cookies.get(flashes.FLASH_COOKIE))
        if waiting and 300 <= status < 400:
            keep = (
                [*flashes.incoming(request), *waiting]
                if not state.get("flashes_shown")
                else waiting
            )
            headers.append(
                "set-cookie",
                cookie_header(flashes.FLASH_COOKIE, flashes.encode(request, keep), secure=secure),
            )
            return
        if waiting and request.headers.get("HX-Request") == "true":
            headers["HX-Trigger"] = flashes.hx_trigger(waiting)
        if carried and state.get("flashes_shown"):
            headers.append(
                "set-cookie", cookie_header(flashes.FLASH_COOKIE, "", secure=secure, max_age=0)
            )
