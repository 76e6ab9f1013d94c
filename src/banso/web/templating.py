"""Jinja2 for the pages: one environment over every capability's ``templates/`` folder.

A capability keeps its templates in ``src/banso/<capability>/templates/<capability>/`` and
renders them with ``render(request, "<capability>/page.html", context)``. Partials that HTMX
swaps in are named ``_name.html``. Every page gets ``user``, ``locale``, ``csrf_input()``,
the flash messages and the formatting filters (``number``, ``money``, ``date``,
``datetime``, ``markdown`` for users' Markdown, sanitised); text is escaped unless a
template says otherwise.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from banso import __version__
from banso.documents.markdown import render as render_markdown
from banso.i18n import (
    LOCALE_NAMES,
    N_,
    current_locale,
    format_date,
    format_datetime,
    format_money,
    format_number,
    gettext,
    ngettext,
)
from banso.web import flash as flashes
from banso.web.security import CSRF_FIELD, CSRF_HEADER, csrf_token

ROLE_LABELS = {
    "admin": N_("Admin"),
    "manager": N_("Manager"),
    "csm": N_("CSM"),
    "viewer": N_("Viewer"),
}
PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = Path(__file__).resolve().parent / "static"


def template_dirs() -> list[Path]:
    """The shell's own templates first, then each capability's ``templates/`` folder."""
    own = Path(__file__).resolve().parent / "templates"
    others = sorted(p for p in PACKAGE_DIR.glob("*/templates") if p.is_dir() and p != own)
    return [own, *others]


@cache
def _asset_version(name: str) -> str:
    path = STATIC_DIR / name
    if not path.exists():
        return __version__
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """The address of a static file, with a fingerprint so browsers never keep a stale copy."""
    return f"/static/{name}?v={_asset_version(name)}"


def static_exists(name: str) -> bool:
    return (STATIC_DIR / name).exists()


def _money(value: int | None, currency: str | None = None) -> str:
    return format_money(value, currency or _default_currency())


_CURRENCY = ["JPY"]


def _default_currency() -> str:
    return _CURRENCY[0]


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs()]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        number=format_number,
        money=_money,
        date=format_date,
        datetime=format_datetime,
        markdown=render_markdown,
    )
    env.globals.update(
        static=static_url,
        static_exists=static_exists,
        locale_names=LOCALE_NAMES,
        role_label=lambda role: gettext(ROLE_LABELS.get(str(role), str(role))),
        roles=tuple(ROLE_LABELS),
    )
    return env


def page_globals(request: Request) -> dict[str, Any]:
    """What every page may use, besides its own context."""
    settings = request.app.state.settings
    _CURRENCY[0] = settings.default_currency
    cookie = flashes.csrf_base(request)
    token = csrf_token(settings, cookie)

    def csrf_input() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)

    return {
        "request": request,
        "user": getattr(request.state, "user", None),
        "locale": current_locale(),
        "csrf_token": token,
        "csrf_input": csrf_input,
        "csrf_headers": json.dumps({CSRF_HEADER: token}),
        "flashes": flashes.take(request),
        "path": request.url.path,
        "version": __version__,
    }


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page or a partial for this request."""
    values = page_globals(request)
    values.update(context or {})
    html = environment().get_template(name).render(values)
    return HTMLResponse(html, status_code=status_code, headers=headers)
