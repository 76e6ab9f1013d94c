"""Users (argon2 password hashes) and API tokens (shown once, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

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
_hasher = PasswordHasher()


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: Name
    role: str = "csm"
    password: str | None = Field(default=None, min_length=10, max_length=256)
    locale: str | None = Field(default=None, pattern=r"^(ja|en)$")


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
