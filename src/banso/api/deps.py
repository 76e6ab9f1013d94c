"""Dependencies shared by every REST router: the session, the caller, the permission checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.auth.service import actor_for, authenticate_token
from banso.errors import BansoError, InvalidInput, PermissionDenied
from banso.settings import Settings


class Unauthenticated(BansoError):
    status_code = 401

    def as_dict(self) -> dict[str, str]:
        return {"error": "unauthorized", "message": str(self)}


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False, description="An API token from `banso keys create`.")


def current_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise Unauthenticated(
            "send an API token as 'Authorization: Bearer <token>' (banso keys create)"
        )
    user = authenticate_token(session, credentials.credentials)
    if user is None:
        raise Unauthenticated("the API token is unknown, revoked or expired")
    return actor_for(user, via="api")


def writer(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if not actor.can_write:
        raise PermissionDenied(f"role {actor.role!r} may read but not change data")
    return actor


def admin(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if not actor.is_admin:
        raise PermissionDenied("only an admin may do this")
    return actor


ReaderDep = Annotated[Actor, Depends(current_actor)]
WriterDep = Annotated[Actor, Depends(writer)]
AdminDep = Annotated[Actor, Depends(admin)]


# Query parameters every list endpoint shares.
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (≤500).")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page.")]
Confirm = Annotated[bool, Query(description="Must be true: deleting cannot be undone.")]


def custom_filters(request: Request) -> dict[str, str]:
    """``?custom.plan_type=Gold`` style filters on custom fields."""
    found = {}
    for key, value in request.query_params.items():
        if key.startswith("custom."):
            name = key.removeprefix("custom.")
            if not name:
                raise InvalidInput.one(key, "name the custom field: custom.<key>=value")
            found[name] = value
    return found
