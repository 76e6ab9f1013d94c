"""Who the product's users and groups are: linking them to contacts and accounts.

Every request's identify, group and alias calls are applied together: one query per kind of
fact for the whole batch (which users and groups exist, which contacts and accounts the
evidence points to), never one query per event. Links are only ever added to unlinked users
and groups, so a person's manual link is never overwritten by an automatic guess. Attribution
itself is late-binding: metrics join events with ``attribution_tables`` when they run, so a
link made today counts for the events of last month too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from banso.accounts.identity import normalize_email
from banso.accounts.models import Account, Contact
from banso.accounts.resolution import (
    AccountEvidence,
    ContactEvidence,
    Match,
    resolve_accounts_bulk,
    resolve_contacts_bulk,
)
from banso.audit.service import Actor, record
from banso.db import utcnow
from banso.errors import InvalidInput, NotFound, PermissionDenied
from banso.events.models import UsageAlias, UsageGroup, UsageMembership, UsageUser

# The external-id system product ids are looked up in: an account whose external id in system
# "segment" equals a groupId is that group's account, a contact whose external id equals a
# userId is that user (set them on import, e.g. a column mapped to external id "segment").
ID_SYSTEM = "segment"
_IN_CHUNK = 5000


@dataclass
class Facts:
    """What one batch of events says about identities, keyed by id (last call wins)."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # user_id → traits
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # group_id → traits
    aliases: dict[str, str] = field(default_factory=dict)  # alias (anonymous/previous) → user
    memberships: set[tuple[str, str]] = field(default_factory=set)
    seen_at: datetime = field(default_factory=utcnow)


def _traits(row: dict[str, Any]) -> dict[str, Any]:
    raw = row.get("traits")
    if not raw:
        return {}
    value = json.loads(raw) if isinstance(raw, str) else raw
    return value if isinstance(value, dict) else {}


def facts_of(rows: Iterable[dict[str, Any]]) -> Facts:
    """Collect the identity facts of event rows (in the store's row shape)."""
    facts = Facts()
    for row in rows:
        user, kind = row.get("user_id"), row.get("type")
        if user:
            traits = _traits(row) if kind == "identify" else {}
            facts.users.setdefault(user, {}).update(traits)
        if kind in ("identify", "alias") and user:
            other = row.get("anonymous_id") if kind == "identify" else row.get("previous_id")
            if other and other != user:
                facts.aliases[other] = user
        if kind == "group" and row.get("group_id"):
            facts.groups.setdefault(row["group_id"], {}).update(_traits(row))
            if user:
                facts.memberships.add((user, row["group_id"]))
    return facts


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def insert_ignore(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows, skipping those whose key exists (a concurrent request may insert them)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for chunk in _chunks(rows):
        session.execute(insert(table).on_conflict_do_nothing(), list(chunk))


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return None
    return value.strip()[:limit]


def _email_of(traits: dict[str, Any]) -> str | None:
    email = _text(traits.get("email"), 320)
    return email if email and "@" in email else None


def apply_facts(session: Session, facts: Facts) -> None:
    """Record users, groups, aliases and memberships, then link what is new and unlinked."""
    now = facts.seen_at
    insert_ignore(
        session,
        UsageUser.__table__,
        [
            {"user_id": u, "traits": {}, "first_seen_at": now, "last_seen_at": now}
            for u in sorted(facts.users)
        ],
    )
    insert_ignore(
        session,
        UsageGroup.__table__,
        [
            {"group_id": g, "traits": {}, "first_seen_at": now, "last_seen_at": now}
            for g in sorted(facts.groups)
        ],
    )
    insert_ignore(
        session,
        UsageAlias.__table__,
        [{"alias_id": a, "user_id": u, "created_at": now} for a, u in facts.aliases.items()],
    )
    insert_ignore(
        session,
        UsageMembership.__table__,
        [{"user_id": u, "group_id": g, "created_at": now} for u, g in sorted(facts.memberships)],
    )
    _update_users(session, facts)
    _update_groups(session, facts)
    _link_users_through_groups(session, facts)


def _load(session: Session, model: Any, key: Any, ids: Sequence[str]) -> list[Any]:
    found: list[Any] = []
    for chunk in _chunks(sorted(ids)):
        found.extend(session.scalars(select(model).where(key.in_(chunk))))
    return found


def _update_users(session: Session, facts: Facts) -> None:
    with_traits = [u for u, t in facts.users.items() if t]
    users = _load(session, UsageUser, UsageUser.user_id, with_traits)
    for user in users:
        traits = facts.users[user.user_id]
        user.traits = {**(user.traits or {}), **traits}
        user.last_seen_at = facts.seen_at
        email = _email_of(traits)
        if email:
            user.email, user.email_key = email, normalize_email(email)
    unlinked = [u for u in users if u.account_id is None]
    contacts = resolve_contacts_bulk(
        session, [ContactEvidence(external=(ID_SYSTEM, u.user_id), email=u.email) for u in unlinked]
    )
    accounts = resolve_accounts_bulk(session, [AccountEvidence(email=u.email) for u in unlinked])
    owners = _contact_accounts(session, [m.id for m in contacts if m and m.id])
    for user, contact, account in zip(unlinked, contacts, accounts, strict=True):
        if contact and contact.id:
            user.contact_id, user.account_id = contact.id, owners[contact.id]
            user.link_source = _source(contact)
        elif account and account.id:
            user.account_id, user.link_source = account.id, _source(account)
    session.flush()


def _contact_accounts(session: Session, contact_ids: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(set(contact_ids))):
        stmt = select(Contact.id, Contact.account_id).where(Contact.id.in_(chunk))
        found.update({cid: aid for cid, aid in session.execute(stmt)})
    return found


def _source(match: Match) -> str:
    """The strongest evidence of a match, as a link source (``email+domain`` → ``email``)."""
    return match.reason.split("+")[0]


def _group_evidence(group_id: str, traits: dict[str, Any]) -> AccountEvidence:
    domain = _text(traits.get("website"), 253) or _text(traits.get("domain"), 253)
    return AccountEvidence(
        external=(ID_SYSTEM, group_id),
        name=_text(traits.get("name"), 300),
        domain=domain,
        email=_email_of(traits),
    )


def _update_groups(session: Session, facts: Facts) -> None:
    groups = _load(session, UsageGroup, UsageGroup.group_id, list(facts.groups))
    for group in groups:
        traits = facts.groups[group.group_id]
        if traits:
            group.traits = {**(group.traits or {}), **traits}
            group.name = _text(traits.get("name"), 300) or group.name
        group.last_seen_at = facts.seen_at
    unlinked = [g for g in groups if g.account_id is None]
    evidence = [_group_evidence(g.group_id, g.traits or {}) for g in unlinked]
    for group, match in zip(unlinked, resolve_accounts_bulk(session, evidence), strict=True):
        if match and match.id:
            group.account_id, group.link_source = match.id, _source(match)
    session.flush()


def _link_users_through_groups(session: Session, facts: Facts) -> None:
    """A user still unlinked who belongs to a linked group belongs to the group's account."""
    users = sorted({u for u, _ in facts.memberships})
    if not users:
        return
    for chunk in _chunks(users):
        stmt = (
            select(UsageMembership.user_id, UsageGroup.account_id)
            .join(UsageGroup, UsageGroup.group_id == UsageMembership.group_id)
            .where(UsageMembership.user_id.in_(chunk), UsageGroup.account_id.is_not(None))
        )
        accounts: dict[str, int | None] = {}
        for user_id, account_id in session.execute(stmt):
            accounts.setdefault(user_id, account_id)
        for user_id, account_id in accounts.items():
            session.execute(
                update(UsageUser)
                .where(UsageUser.user_id == user_id, UsageUser.account_id.is_(None))
                .values(account_id=account_id, link_source="group")
            )


# ---------------------------------------------------------------- attribution


def attribution_tables(session: Session) -> tuple[pa.Table, pa.Table, pa.Table]:
    """users(user_id, account_id, contact_id), groups(group_id, account_id),
    aliases(alias_id, user_id): what metrics join events with (late binding)."""
    users = session.execute(
        select(UsageUser.user_id, UsageUser.account_id, UsageUser.contact_id)
    ).all()
    groups = session.execute(select(UsageGroup.group_id, UsageGroup.account_id)).all()
    aliases = session.execute(select(UsageAlias.alias_id, UsageAlias.user_id)).all()
    return (
        pa.table(
            {
                "user_id": pa.array([r[0] for r in users], pa.string()),
                "account_id": pa.array([r[1] for r in users], pa.int64()),
                "contact_id": pa.array([r[2] for r in users], pa.int64()),
            }
        ),
        pa.table(
            {
                "group_id": pa.array([r[0] for r in groups], pa.string()),
                "account_id": pa.array([r[1] for r in groups], pa.int64()),
            }
        ),
        pa.table(
            {
                "alias_id": pa.array([r[0] for r in aliases], pa.string()),
                "user_id": pa.array([r[1] for r in aliases], pa.string()),
            }
        ),
    )


# ---------------------------------------------------------------- unmatched, manual links


def unmatched_users(session: Session, limit: int = 100, after: int = 0) -> list[UsageUser]:
    """Users with no account yet, oldest first; ``after`` is the last id of the previous page."""
    stmt = (
        select(UsageUser)
        .where(UsageUser.account_id.is_(None), UsageUser.id > after)
        .order_by(UsageUser.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def unmatched_groups(session: Session, limit: int = 100, after: int = 0) -> list[UsageGroup]:
    """Groups with no account yet, oldest first; ``after`` is the last id of the previous page."""
    stmt = (
        select(UsageGroup)
        .where(UsageGroup.account_id.is_(None), UsageGroup.id > after)
        .order_by(UsageGroup.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _check_writer(actor: Actor) -> None:
    if not actor.can_write:
        raise PermissionDenied("a viewer cannot link usage identities")


def link_user(
    session: Session, actor: Actor, user_id: str, account_id: int, contact_id: int | None = None
) -> UsageUser:
    """Link a product user to an account (and a contact of it) by hand."""
    _check_writer(actor)
    user = session.scalar(select(UsageUser).where(UsageUser.user_id == user_id))
    if user is None:
        raise NotFound("usage user", user_id)
    if session.get(Account, account_id) is None:
        raise InvalidInput.one("account_id", f"account {account_id} does not exist")
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.account_id != account_id:
            raise InvalidInput.one(
                "contact_id", f"contact {contact_id} is not a contact of account {account_id}"
            )
    before = {"account_id": user.account_id, "contact_id": user.contact_id}
    user.account_id, user.contact_id, user.link_source = account_id, contact_id, "manual"
    session.flush()
    after = {"user_id": user_id, "account_id": account_id, "contact_id": contact_id}
    record(session, actor, "link", "usage_user", user.id, before=before, after=after)
    return user


def link_group(session: Session, actor: Actor, group_id: str, account_id: int) -> UsageGroup:
    """Link a product group to an account by hand."""
    _check_writer(actor)
    group = session.scalar(select(UsageGroup).where(UsageGroup.group_id == group_id))
    if group is None:
        raise NotFound("usage group", group_id)
    if session.get(Account, account_id) is None:
        raise InvalidInput.one("account_id", f"account {account_id} does not exist")
    before = {"account_id": group.account_id}
    group.account_id, group.link_source = account_id, "manual"
    session.flush()
    after = {"group_id": group_id, "account_id": account_id}
    record(session, actor, "link", "usage_group", group.id, before=before, after=after)
    return group
