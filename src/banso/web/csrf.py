"""Every state-changing page request must carry the page's form token (CSRF protection).

Installed on the whole app (``create_app``) so that no route can forget it; the REST API
(bearer tokens, no cookies) and Segment ingestion (write keys) are exempt.
"""

from __future__ import annotations

from fastapi import Request

from banso.errors import BansoError
from banso.web.flash import csrf_base
from banso.web.middleware import is_web_path
from banso.web.security import CSRF_FIELD, CSRF_HEADER, csrf_valid

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(BansoError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__(
            "this form has expired or did not come from banso; reload the page and try again"
        )

    def as_dict(self) -> dict[str, str]:
        return {"error": "csrf_failed", "message": str(self)}


async def csrf_protect(request: Request) -> None:
    if request.method in SAFE_METHODS or not is_web_path(request.url.path):
        return
    token = request.headers.get(CSRF_HEADER)
    if not token:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    if not csrf_valid(request.app.state.settings, csrf_base(request), token):
        raise CsrfFailed()
