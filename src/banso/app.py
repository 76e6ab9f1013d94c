"""The web application: ``create_app(settings)`` builds everything; nothing at import time."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm.exc import StaleDataError

from banso import __version__
from banso.db import make_engine, make_sessionmaker
from banso.errors import BansoError
from banso.migrate import ensure_migrated
from banso.settings import Settings

# Each capability that offers REST endpoints has a module with a ``router``; add yours here.
API_ROUTERS = (
    "banso.accounts.api",
    "banso.accounts.identity_api",
    "banso.contracts.api",
    "banso.deals.api",
    "banso.audit.api",
    "banso.imports.api",
)

# Server-rendered pages (Jinja2 + HTMX); each module exports `router`.
WEB_ROUTERS: tuple[str, ...] = ()


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    return errors


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BansoError)
    async def _banso_error(_request: Request, exc: BansoError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.status_code)

    @app.exception_handler(StaleDataError)
    async def _lost_race(_request: Request, _exc: StaleDataError) -> JSONResponse:
        # Two writers passed the version check at once; the versioned UPDATE caught the second.
        body = {
            "error": "conflict",
            "message": "the record was changed by someone else while "
            "you saved; reload it and apply your change again",
        }
        return JSONResponse(body, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(
            {"error": "invalid_input", "message": message, "errors": errors}, status_code=422
        )


def create_app(
    settings: Settings, *, check_migrations: bool = True, **engine_kwargs: Any
) -> FastAPI:
    """Build the app for ``settings``. Refuses an unmigrated database (run `banso init`)."""
    engine = make_engine(settings, **engine_kwargs)
    if check_migrations:
        try:
            ensure_migrated(engine)
        except Exception:
            engine.dispose()
            raise
    app = FastAPI(
        title="banso",
        version=__version__,
        description="Customer success platform: accounts, contacts, contracts, deals.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine, currency=settings.default_currency)
    _install_error_handlers(app)
    for module_name in API_ROUTERS:
        module = importlib.import_module(module_name)
        app.include_router(module.router, prefix="/api/v1")
    for module_name in WEB_ROUTERS:
        app.include_router(importlib.import_module(module_name).router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def home() -> str:
        return _HOME

    return app


_HOME = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>banso</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>banso 伴走</h1>
<p>The REST API is running. The web interface arrives in the next release.</p>
<p>REST API の準備ができています。Web 画面は次のリリースで提供されます。</p>
<ul>
<li><a href="/api/v1/docs">API documentation / API ドキュメント</a></li>
<li><a href="/api/v1/openapi.json">OpenAPI (JSON)</a></li>
</ul>
</body></html>
"""


def app_from_environment() -> FastAPI:
    """Factory for uvicorn (``banso serve``): settings from the environment."""
    from banso.settings import load_settings

    return create_app(load_settings())
