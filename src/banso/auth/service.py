"""Users (argon2 password hashes) and API tokens (shown once, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor, record
from banso.auth.models import ROLES, ApiToken, User
from banso.errors import Conflict, InvalidInput, NotFound
from banso.text import Name

TOKEN_PREFIX = "banso_"
PASSWORD_MIN = 10
PASSWORD_MAX = 256
TOKEN_NAME_MAX = 200
TOKEN_DAYS_MAX = 3650
_hasher = PasswordHasher()


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: Name
    role: str = "csm"
    password: str | None = Field(default=None, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    locale: str | None = Field(default=None, pattern=r"^(ja|en)$")


class UserPatch(BaseModel):
    """Only the fields sent change; ``version`` is the one the caller read."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    role: str | None = None
    locale: str | None = Field(default=None, pattern=r"^(ja|en)$")
    version: int


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, actor: Actor, data: UserIn) -> User:
    if data.role not in ROLES:
        raise InvalidInput.one("role", f"must be one of {', '.join(ROLES)}")
    email = data.email.strip().lower()
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=data.name,
        role=data.role,
        locale=data.locale,
        password_hash=hash_password(data.password) if data.password else None,
    )
    session.add(user)
    session.flush()
    record(session, actor, "create", "user", user.id, None, {"email": email, "role": data.role})
    return user


def user_view(user: User) -> dict[str, Any]:
    """What the audit log keeps of a user: never the password hash."""
    names = ("email", "name", "role", "locale", "is_active")
    return {name: getattr(user, name) for name in names}


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if 1 <= user_id < 2**31 else None
    if user is None:
        raise NotFound("user", user_id)
    return user


def _fresh(user: User, version: int) -> None:
    if user.version != version:
        raise Conflict(
            f"user {user.email} was changed by someone else; reload and try again",
            user_view(user) | {"version": user.version},
        )


def _other_active_admins(session: Session, user_id: int) -> int:
    stmt = select(func.count()).where(
        User.role == "admin", User.is_active.is_(True), User.id != user_id
    )
    return session.scalar(stmt) or 0


def update_user(session: Session, actor: Actor, user_id: int, data: UserPatch) -> User:
    """Rename a user, change their role or language. Nobody demotes themself, and the last
    active admin stays an admin (someone must be able to manage users)."""
    user = get_user(session, user_id)
    _fresh(user, data.version)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    for name in ("name", "role"):
        if name in changes and changes[name] is None:
            raise InvalidInput.one(name, "cannot be empty; leave it out to keep it")
    role = changes.get("role", user.role)
    if role not in ROLES:
        raise InvalidInput.one("role", f"must be one of {', '.join(ROLES)}")
    if user.role == "admin" and role != "admin":
        if actor.user_id == user.id:
            raise InvalidInput.one(
                "role", "you cannot take the admin role from yourself; ask another admin"
            )
        if user.is_active and not _other_active_admins(session, user.id):
            raise InvalidInput.one("role", f"{user.email} is the only active admin")
    before = user_view(user)
    for name, value in changes.items():
        setattr(user, name, value)
    session.flush()
    after = user_view(user)
    if after != before:
        record(session, actor, "update", "user", user.id, before, after)
    return user


def set_user_active(
    session: Session, actor: Actor, user_id: int, active: bool, version: int
) -> User:
    """Deactivate a user (they can no longer sign in or use their tokens) or reactivate one.
    Nobody deactivates themself, and the last active admin stays."""
    user = get_user(session, user_id)
    _fresh(user, version)
    if user.is_active == active:
        return user
    if not active:
        if actor.user_id == user.id:
            raise InvalidInput.one("is_active", "you cannot deactivate yourself")
        if user.role == "admin" and not _other_active_admins(session, user.id):
            raise InvalidInput.one("is_active", f"{user.email} is the only active admin")
    before = user_view(user)
    user.is_active = active
    session.flush()
    action = "reactivate" if active else "deactivate"
    record(session, actor, action, "user", user.id, before, user_view(user))
    return user


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise InvalidInput.one("password", f"must be at least {PASSWORD_MIN} characters long")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput.one("password", f"must be at most {PASSWORD_MAX} characters long")
    if "\x00" in password:
        raise InvalidInput.one("password", "contains a NUL character (\\x00)")
    return password


def set_password(session: Session, actor: Actor, user_id: int, password: str, version: int) -> User:
    """Give a user a new password. The audit log notes the change, never the password."""
    user = get_user(session, user_id)
    _fresh(user, version)
    user.password_hash = hash_password(check_password(password))
    session.flush()
    record(session, actor, "set_password", "user", user.id, None, {"email": user.email})
    return user


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NotFound("user", email)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, actor: Actor, user: User, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; the plain token is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > TOKEN_NAME_MAX or "\x00" in name:
        raise InvalidInput.one("name", f"give a name of 1 to {TOKEN_NAME_MAX} characters")
    if expires_in_days is not None and not 1 <= expires_in_days <= TOKEN_DAYS_MAX:
        raise InvalidInput.one("expires_in_days", f"must be between 1 and {TOKEN_DAYS_MAX}")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=plain[: len(TOKEN_PREFIX) + 6],
        token_hash=_digest(plain),
        expires_at=expires,
    )
    session.add(token)
    session.flush()
    record(
        session, actor, "create", "api_token", token.id, None, {"name": name, "user_id": user.id}
    )
    return token, plain


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("API token", token_id)
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        record(session, actor, "revoke", "api_token", token.id, None, {"name": token.name})
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def authenticate_token(session: Session, plain: str) -> User | None:
    """The active user behind a bearer token, or None (unknown, revoked, expired)."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    # Write last use at most once a minute so reads do not turn into writes.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return user


def actor_for(user: User, via: str = "") -> Actor:
    label = f"{user.email}{' via ' + via if via else ''}"
    return Actor(label=label, user_id=user.id, role=user.role)
