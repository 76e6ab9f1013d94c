"""One-time messages ("Saved.") and the cookies a page sets on its way out.

A view calls ``flash(request, message)``. If the same response is a page, the page shows the
message; if it is a redirect, the message rides in a signed cookie to the next page; if it is
an HTMX partial, it travels in an ``HX-Trigger`` header and the page's script shows it. The
middleware (``banso.web.middleware``) writes what this module queues.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer

from banso.web.security import PRE_COOKIE, SESSION_COOKIE, new_cookie_value, secret_key

FLASH_COOKIE = "banso_flash"
CATEGORIES = ("info", "error", "warning")


def _state(request: Request) -> dict[str, Any]:
    return request.scope.setdefault("state", {})


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key(request.app.state.settings), salt="banso.flash")


def flash(request: Request, message: str, category: str = "info") -> None:
    """Show ``message`` once, on this response or the next page."""
    state = _state(request)
    state.setdefault("new_flashes", []).append(
        {"message": str(message)[:500], "category": category if category in CATEGORIES else "info"}
    )


def incoming(request: Request) -> list[dict[str, str]]:
    """Messages carried over from the previous response (a redirect)."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or len(raw) > 4000:
        return []
    try:
        data = _serializer(request).loads(raw)
    except BadSignature:
        return []
    if not isinstance(data, list):
        return []
    return [m for m in data if isinstance(m, dict) and isinstance(m.get("message"), str)]


def take(request: Request) -> list[dict[str, str]]:
    """Every message to show on the page being rendered; shown messages are not sent again."""
    state = _state(request)
    if state.get("flashes_shown"):
        return []
    state["flashes_shown"] = True
    return [*incoming(request), *state.pop("new_flashes", [])]


def pending(request: Request) -> list[dict[str, str]]:
    """Messages queued on this request that no page has shown yet."""
    return list(_state(request).get("new_flashes", []))


def encode(request: Request, messages: list[dict[str, str]]) -> str:
    return str(_serializer(request).dumps(messages))


def hx_trigger(messages: list[dict[str, str]]) -> str:
    """The HX-Trigger header value that makes the page script show ``messages``."""
    return json.dumps({"banso:flash": messages}, ensure_ascii=True)


def csrf_base(request: Request) -> str:
    """The cookie value form tokens are derived from: the session cookie when signed in,
    otherwise a random pre-session cookie (set on this response if the browser lacks one)."""
    state = _state(request)
    if state.get("session_cookie"):
        return str(state["session_cookie"])
    session_cookie = request.cookies.get(SESSION_COOKIE)
    if session_cookie and not state.get("session_ended"):
        return session_cookie
    pre = request.cookies.get(PRE_COOKIE) or state.get("new_pre_cookie")
    if not pre:
        pre = new_cookie_value()
        state["new_pre_cookie"] = pre
    return str(pre)
