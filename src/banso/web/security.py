"""Sign-in sessions, sign-in throttling and form (CSRF) tokens.

* A session is a random cookie value; the database keeps only its SHA-256, with an idle
  timeout (``BANSO_SESSION_IDLE_HOURS``) and an absolute one (``BANSO_SESSION_MAX_DAYS``).
* Repeated failed sign-ins for one e-mail address, or from one network address, make the
  next attempt wait, doubling each time (``retry_after``).
* A form token is an HMAC of the session cookie (or, before sign-in, of a random pre-session
  cookie) under the secret key: a page from another site can neither read nor forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from banso.auth.models import User
from banso.auth.service import hash_password, verify_password
from banso.db import utcnow
from banso.settings import Settings
from banso.web.models import LoginAttempt, WebSession

SESSION_COOKIE = "banso_session"
PRE_COOKIE = "banso_pre"
LANGUAGE_COOKIE = "banso_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

# Throttling: this many failures within the window cost nothing; each further one doubles
# the wait, up to the cap.
FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
FIRST_WAIT = timedelta(seconds=15)
LONGEST_WAIT = timedelta(minutes=15)
# How often a session's "last seen" is written (reads should not all turn into writes).
TOUCH_EVERY = timedelta(minutes=5)

_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@cache
def _key_from_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip().encode()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        key = secrets.token_urlsafe(48)
        out.write(key + "\n")
    return key.encode()


def secret_key(settings: Settings) -> bytes:
    """BANSO_SECRET_KEY, or a random key created once in the data folder."""
    if settings.secret_key:
        return settings.secret_key.encode()
    return _key_from_file((settings.data_dir / "secret_key").resolve())


def csrf_token(settings: Settings, cookie_value: str) -> str:
    mac = hmac.new(secret_key(settings), b"csrf|" + cookie_value.encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_valid(settings: Settings, cookie_value: str | None, token: str | None) -> bool:
    if not cookie_value or not token or len(token) > 200:
        return False
    return hmac.compare_digest(csrf_token(settings, cookie_value), token)


def new_cookie_value() -> str:
    return secrets.token_urlsafe(32)


# ---------------------------------------------------------------- sessions


def start_session(
    session: Session, settings: Settings, user: User, user_agent: str = ""
) -> tuple[WebSession, str]:
    """A new signed-in session for ``user``; the cookie value is returned, never stored."""
    plain = new_cookie_value()
    now = utcnow()
    row = WebSession(
        token_hash=_digest(plain),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=_expiry(settings, now, now),
        user_agent=user_agent[:300],
    )
    session.add(row)
    session.flush()
    return row, plain


def _expiry(settings: Settings, created: datetime, now: datetime) -> datetime:
    idle = now + timedelta(hours=settings.session_idle_hours)
    return min(idle, created + timedelta(days=settings.session_max_days))


def user_of_session(session: Session, settings: Settings, plain: str | None) -> User | None:
    """The active user signed in with this cookie, or None (unknown, expired, deactivated).
    Extends the idle timeout as the session is used."""
    if not plain or len(plain) > 100:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(plain)))
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = _expiry(settings, row.created_at, now)
    return user


def end_session(session: Session, plain: str | None) -> None:
    if plain and len(plain) <= 100:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(plain)))


def end_sessions_of(session: Session, user_id: int) -> int:
    """Sign a user out everywhere (after a password change, a role change, deactivation)."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(session: Session) -> None:
    session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at <= utcnow() - timedelta(days=30)))


# ---------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class SignIn:
    user: User | None
    retry_after: int = 0  # seconds to wait before trying again (0: not throttled)


def _wait(failures: int, free: int) -> timedelta:
    if failures < free:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** (failures - free), LONGEST_WAIT)


def _recent_failures(session: Session, column: object, value: str) -> tuple[int, datetime | None]:
    since = utcnow() - FAILURE_WINDOW
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            column == value,  # type: ignore[arg-type]
            LoginAttempt.succeeded.is_(True),
            LoginAttempt.at > since,
        )
    )
    if last_success is not None:
        since = last_success
    count, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            column == value,  # type: ignore[arg-type]
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
        )
    ).one()
    return int(count), latest


def retry_after(session: Session, email: str, address: str) -> int:
    """Seconds until another sign-in attempt for this e-mail / from this address is allowed."""
    now = utcnow()
    longest = 0.0
    for column, value, free in (
        (LoginAttempt.email, email, FREE_FAILURES),
        (LoginAttempt.address, address, ADDRESS_FREE_FAILURES),
    ):
        failures, latest = _recent_failures(session, column, value)
        if latest is None:
            continue
        remaining = (latest + _wait(failures, free) - now).total_seconds()
        longest = max(longest, remaining)
    return int(longest + 0.999) if longest > 0 else 0


def sign_in(session: Session, email: str, password: str, address: str) -> SignIn:
    """Check an e-mail and password, slowed down after repeated failures. Every attempt that
    is not refused for waiting is recorded."""
    email = email.strip().lower()[:320]
    address = address[:64]
    wait = retry_after(session, email, address)
    if wait:
        return SignIn(None, wait)
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not user.is_active:
        # The same work as a real check, so timing does not tell which e-mails exist.
        verify_password(User(password_hash=_DUMMY_HASH), password)
        ok = False
    else:
        ok = verify_password(user, password)
    session.add(LoginAttempt(email=email, address=address, at=utcnow(), succeeded=ok))
    session.flush()
    return SignIn(user if ok else None)
