"""Dependencies of every page: the database session and who is signed in, with their role.

``SignedInUser`` sends a visitor who is not signed in to the sign-in page; ``WriterUser``
refuses viewers (403), ``ManagerUser`` everyone below manager, ``AdminUser`` everyone but
admins. Every page route takes one of them, and a test walks all routes to check it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from banso.api.deps import get_session
from banso.audit.service import Actor
from banso.auth.models import User
from banso.auth.service import actor_for
from banso.errors import BansoError, PermissionDenied
from banso.web.security import SESSION_COOKIE, user_of_session


class SignInRequired(BansoError):
    """The page needs a signed-in user; the handler sends the browser to /login."""

    status_code = 401

    def __init__(self, next_url: str) -> None:
        super().__init__("sign in to see this page")
        self.next_url = next_url

    @property
    def login_url(self) -> str:
        return "/login?next=" + quote(self.next_url, safe="/")


# One transaction per page request, as for the API: committed when the view returns.
get_db_session = get_session

DbSession = Annotated[Session, Depends(get_db_session, scope="function")]


def _next_url(request: Request) -> str:
    if request.method != "GET":
        # After signing in, a form's target is no page to land on; its page is.
        referer = request.headers.get("HX-Current-URL") or ""
        return referer.split(request.url.netloc, 1)[-1] if referer else "/"
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def signed_in_user(request: Request, session: DbSession) -> User:
    user = user_of_session(session, request.app.state.settings, request.cookies.get(SESSION_COOKIE))
    if user is None:
        raise SignInRequired(_next_url(request))
    request.state.user = user
    return user


SignedInUser = Annotated[User, Depends(signed_in_user)]


def writer_user(user: SignedInUser) -> User:
    if not user.can_write:
        raise PermissionDenied("a viewer may look but not change anything")
    return user


def manager_user(user: SignedInUser) -> User:
    if user.role not in ("admin", "manager"):
        raise PermissionDenied("only a manager or an admin may do this")
    return user


def admin_user(user: SignedInUser) -> User:
    if user.role != "admin":
        raise PermissionDenied("only an admin may do this")
    return user


WriterUser = Annotated[User, Depends(writer_user)]
ManagerUser = Annotated[User, Depends(manager_user)]
AdminUser = Annotated[User, Depends(admin_user)]


def actor_of(user: User) -> Actor:
    """The audit log's name for a change made in the web interface."""
    return actor_for(user, via="web")


def today_of(request: Request) -> date:
    """Today in the workspace timezone (JST unless configured otherwise)."""
    settings = getattr(request.app.state, "settings", None)
    tz = getattr(settings, "timezone", None) or "Asia/Tokyo"
    return datetime.now(ZoneInfo(tz)).date()
