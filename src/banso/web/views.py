"""Sign-in, sign-out, the language switch, the front door, and error pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from banso.errors import BansoError, InvalidInput
from banso.i18n import LOCALES, gettext, ngettext, use_locale
from banso.web.deps import DbSession, SignedInUser, SignInRequired
from banso.web.flash import flash
from banso.web.security import SESSION_COOKIE, end_session, purge_expired, sign_in, start_session
from banso.web.templating import render

router = APIRouter()
HOME = "/customers"


def safe_next(value: str | None) -> str:
    """Only a path on this site (never //elsewhere or a scheme) may follow a sign-in."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return HOME
    if any(c in value for c in "\r\n\t") or len(value) > 2000:
        return HOME
    return value


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/", include_in_schema=False)
def front_door(request: Request) -> RedirectResponse:
    target = HOME if request.cookies.get(SESSION_COOKIE) else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, session: DbSession, next: str = "") -> Response:
    from banso.web.security import user_of_session

    settings = request.app.state.settings
    if user_of_session(session, settings, request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "web/login.html", {"next": safe_next(next), "email": "", "error": ""})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = safe_next(next)
    context = {"next": target, "email": email}
    if not email.strip() or not password:
        context["error"] = gettext("Enter your e-mail address and password.")
        return render(request, "web/login.html", context, status_code=422)
    result = sign_in(session, email, password, client_address(request))
    if result.retry_after:
        context["error"] = ngettext(
            "Too many failed sign-ins. Try again in %(num)d second.",
            "Too many failed sign-ins. Try again in %(num)d seconds.",
            result.retry_after,
        ) % {"num": result.retry_after}
        headers = {"Retry-After": str(result.retry_after)}
        return render(request, "web/login.html", context, status_code=429, headers=headers)
    if result.user is None:
        context["error"] = gettext("The e-mail address or the password is wrong.")
        return render(request, "web/login.html", context, status_code=401)
    purge_expired(session)
    _row, cookie = start_session(
        session, request.app.state.settings, result.user, request.headers.get("user-agent", "")
    )
    request.state.session_cookie = cookie
    if result.user.locale in LOCALES:
        request.state.language_cookie = result.user.locale
    return RedirectResponse(target, status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: DbSession) -> RedirectResponse:
    end_session(session, request.cookies.get(SESSION_COOKIE))
    request.state.session_ended = True
    return RedirectResponse("/login", status_code=303)


@router.post("/language", include_in_schema=False)
def choose_language(
    request: Request,
    session: DbSession,
    locale: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """Remember the language in the browser and, when signed in, for the user everywhere."""
    if locale not in LOCALES:
        raise InvalidInput.one("locale", f"must be one of {', '.join(LOCALES)}")
    from banso.web.security import user_of_session

    user = user_of_session(session, request.app.state.settings, request.cookies.get(SESSION_COOKIE))
    if user is not None and user.locale != locale:
        user.locale = locale
    request.state.language_cookie = locale
    with use_locale(locale):
        flash(request, gettext("Language changed."))
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/me", include_in_schema=False)
def me(request: Request, user: SignedInUser) -> HTMLResponse:
    return render(request, "web/me.html", {})


def error_page(
    request: Request, exc: BansoError | None, status_code: int, message: str = ""
) -> Response:
    """An error as a page (or, for an HTMX request, as a message the page shows in place)."""
    if isinstance(exc, SignInRequired):
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": exc.login_url})
        return RedirectResponse(exc.login_url, status_code=303)
    titles = {
        400: gettext("The request could not be understood"),
        403: gettext("You may not do this"),
        404: gettext("Not found"),
        405: gettext("Not allowed"),
        409: gettext("Changed by someone else"),
        413: gettext("Too large"),
        422: gettext("Please check what you entered"),
        429: gettext("Too many attempts"),
    }
    title = titles.get(status_code, gettext("Something went wrong"))
    errors = getattr(exc, "errors", None) or []
    context = {
        "title": title,
        "message": message or (str(exc) if exc else ""),
        "errors": errors,
        "status": status_code,
    }
    template = (
        "web/_error.html" if request.headers.get("HX-Request") == "true" else "web/error.html"
    )
    return render(request, template, context, status_code=status_code)
