"""Write keys: the secrets products send events with. Only a sha256 of each key is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from banso.audit.service import Actor, record
from banso.db import utcnow
from banso.errors import InvalidInput, NotFound, PermissionDenied
from banso.events.models import WriteKey

KEY_PREFIX = "bwk_"
PREFIX_LENGTH = 12  # "bwk_" and 8 characters: enough to tell keys apart in a list


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class KnownKey:
    """What a request learns from its write key: which key, and the source name of events."""

    id: int
    name: str


def create_write_key(session: Session, actor: Actor, name: str) -> tuple[WriteKey, str]:
    """A new key named ``name``; returns it with the plain key, shown once and never again."""
    if not actor.is_admin:
        raise PermissionDenied("only an admin creates write keys")
    name = name.strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise InvalidInput.one("name", "give a name of 1 to 100 characters, e.g. 'web'")
    plain = KEY_PREFIX + secrets.token_urlsafe(24)
    key = WriteKey(
        name=name, prefix=plain[:PREFIX_LENGTH], key_hash=hash_key(plain), created_by=actor.label
    )
    session.add(key)
    session.flush()
    record(session, actor, "create", "write_key", key.id, after={"name": name})
    return key, plain


def list_write_keys(session: Session) -> list[WriteKey]:
    return list(session.scalars(select(WriteKey).order_by(WriteKey.id)))


def revoke_write_key(session: Session, actor: Actor, key_id: int) -> WriteKey:
    """Revoke a key at once: the next request with it gets 401."""
    if not actor.is_admin:
        raise PermissionDenied("only an admin revokes write keys")
    key = session.get(WriteKey, key_id)
    if key is None:
        raise NotFound("write key", key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(session, actor, "revoke", "write_key", key.id, after={"name": key.name})
    return key


def check_write_key(session: Session, plain: str) -> KnownKey | None:
    """The active key ``plain`` is, or None (unknown, revoked, or not a key at all)."""
    if not plain or len(plain) > 200:
        return None
    stmt = select(WriteKey.id, WriteKey.name).where(
        WriteKey.key_hash == hash_key(plain), WriteKey.revoked_at.is_(None)
    )
    row = session.execute(stmt).first()
    return KnownKey(row.id, row.name) if row else None


def touch_write_key(session: Session, key_id: int) -> None:
    """Note that the key was used (callers throttle this: one write per key per minute)."""
    session.execute(update(WriteKey).where(WriteKey.id == key_id).values(last_used_at=utcnow()))
