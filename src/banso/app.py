"""The web application: ``create_app(settings)`` builds everything; nothing at import time."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

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
    "banso.events.identity_api",
    "banso.metrics.api",
    "banso.tasks.api",
)

# Server-rendered pages (Jinja2 + HTMX); each module exports `router`.
WEB_ROUTERS: tuple[str, ...] = (
    "banso.web.views",
    "banso.accounts.list_views",
    "banso.accounts.views",
    "banso.accounts.merge_views",
    "banso.segments.views",
    "banso.events.views",
    "banso.health.views",
    "banso.knowledge.views",
    "banso.observations.views",
    "banso.meetings.views",
    "banso.timeline.views",
    "banso.profiles.views",
    "banso.tasks.views",
    "banso.search.views",
    "banso.web.admin",
)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    return errors


def _is_page(request: Request) -> bool:
    from banso.web.middleware import is_web_path

    return is_web_path(request.url.path)


def _page_error(
    request: Request, exc: Exception | None, status: int, message: str = ""
) -> Response:
    from banso.web.views import error_page

    return error_page(request, exc if isinstance(exc, BansoError) else None, status, message)


_RACE_MESSAGE = (
    "the record was changed by someone else while you saved; reload it and apply your change again"
)


def _install_error_handlers(app: FastAPI) -> None:
    """Errors as JSON for the API and as pages (or in-place messages) for the web interface."""

    @app.exception_handler(BansoError)
    async def _banso_error(request: Request, exc: BansoError) -> Response:
        if _is_page(request):
            return _page_error(request, exc, exc.status_code)
        return JSONResponse(exc.as_dict(), status_code=exc.status_code)

    @app.exception_handler(StaleDataError)
    async def _lost_race(request: Request, _exc: StaleDataError) -> Response:
        # Two writers passed the version check at once; the versioned UPDATE caught the second.
        if _is_page(request):
            return _page_error(request, None, 409, _RACE_MESSAGE)
        return JSONResponse({"error": "conflict", "message": _RACE_MESSAGE}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if _is_page(request):
            return _page_error(request, None, 422, message)
        return JSONResponse(
            {"error": "invalid_input", "message": message, "errors": errors}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_page(request) and exc.status_code >= 400:
            return _page_error(request, None, exc.status_code, str(exc.detail or ""))
        headers = getattr(exc, "headers", None)
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=headers,
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
    from banso.web.csrf import csrf_protect
    from banso.web.middleware import WebMiddleware
    from banso.web.templating import STATIC_DIR

    app = FastAPI(
        # Every page form must carry its CSRF token; the API and ingestion are exempt.
        dependencies=[Depends(csrf_protect)],
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
    app.add_middleware(WebMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module_name in API_ROUTERS:
        module = importlib.import_module(module_name)
        app.include_router(module.router, prefix="/api/v1")
    for module_name in WEB_ROUTERS:
        app.include_router(importlib.import_module(module_name).router, include_in_schema=False)
    # Segment-compatible ingestion lives at the root (/v1/track...), where SDKs expect it.
    importlib.import_module("banso.events.api").install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn (``banso serve``): settings from the environment."""
    from banso.settings import load_settings

    return create_app(load_settings())
