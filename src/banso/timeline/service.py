"""Timeline entries: writing, editing (with merge on a concurrent edit) and deleting them, the
troubles list, and a customer's stream with meetings, contract movements and score changes.

Every write checks the entry as it would be after the write (its kind's rules, its customer,
contact, reasons and mentions) before anything is written, so a refused change leaves the
session untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.accounts.service import get_account
from banso.audit.service import Actor, record, snapshot
from banso.auth.models import User
from banso.db import utcnow
from banso.documents.markdown import mentions
from banso.documents.service import add_revision, forget, save_fields
from banso.errors import ConfirmationRequired, FieldError, InvalidInput, NotFound
from banso.listing import Page, SortKey, paginate
from banso.timeline import reasons, sources
from banso.timeline.models import (
    ENTRY_KINDS,
    TROUBLE_SEVERITIES,
    TROUBLE_STATUSES,
    CancellationReason,
    Mention,
    TimelineEntry,
)
from banso.timeline.schemas import DB_INT_MAX, EntryIn, EntryPatch
from banso.timeline.stream import StreamItem

if TYPE_CHECKING:
    from banso.search.documents import Doc

ENTITY = "timeline_entry"
TEXT_FIELDS = ("title", "body", "resolution", "hypothesis", "improvement")
# Fields whose Markdown may mention people.
MENTION_FIELDS = ("body", "resolution", "hypothesis", "improvement")
STREAM_KINDS = (*ENTRY_KINDS, "meeting", "contract_movement", "health_change")
OPEN_STATUSES = ("open", "in_progress")
MAX_STREAM_LIMIT = 200
_TROUBLE_ONLY = ("severity", "status", "resolution", "resolved_at")
_INTERVIEW_ONLY = ("hypothesis", "improvement")
# Where an item sits among items of the same moment (its source), for a total order.
_SOURCE_RANK = {"meeting": 3, "contract_movement": 2, "health_change": 1}
_ENTRY_RANK = 4


def get_entry(session: Session, entry_id: int) -> TimelineEntry:
    entry = session.get(TimelineEntry, entry_id) if 1 <= entry_id <= DB_INT_MAX else None
    if entry is None:
        raise NotFound("timeline entry", entry_id)
    return entry


# ---------------------------------------------------------------- checks


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _kind_errors(state: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    kind = state["kind"]
    if kind == "trouble":
        if state.get("severity") is None:
            errors.append(
                FieldError("severity", f"a trouble needs a severity: {TROUBLE_SEVERITIES}")
            )
        if state.get("status") is None:
            errors.append(FieldError("status", f"a trouble needs a status: {TROUBLE_STATUSES}"))
        if state.get("status") == "resolved":
            if not (state.get("resolution") or "").strip():
                errors.append(FieldError("resolution", "say how the trouble was resolved"))
            resolved_at = state.get("resolved_at")
            if resolved_at is not None and resolved_at < state["occurred_at"]:
                errors.append(
                    FieldError("resolved_at", "a trouble cannot be resolved before it occurred")
                )
        elif state.get("resolved_at") is not None:
            errors.append(FieldError("resolved_at", "only a resolved trouble has a resolved time"))
    else:
        for name in _TROUBLE_ONLY:
            if state.get(name) is not None:
                errors.append(FieldError(name, f"only troubles have a {name.replace('_', ' ')}"))
    if kind == "cancellation_interview":
        if not state.get("reason_keys"):
            errors.append(
                FieldError("reason_keys", "a cancellation interview gives at least one reason")
            )
    else:
        if state.get("reason_keys"):
            errors.append(FieldError("reason_keys", "only cancellation interviews give reasons"))
        for name in _INTERVIEW_ONLY:
            if state.get(name) is not None:
                errors.append(FieldError(name, f"only cancellation interviews have the {name}"))
    return errors


def _mention_errors(session: Session, account_id: int, state: dict[str, Any]) -> list[FieldError]:
    """Every mentioned user must exist; every mentioned contact must be this customer's."""
    errors: list[FieldError] = []
    for name in MENTION_FIELDS:
        found = mentions(state.get(name))
        users = {i for kind, i in found if kind == "user"}
        contacts = {i for kind, i in found if kind == "contact"}
        known_users = set(session.scalars(select(User.id).where(User.id.in_(_storable(users)))))
        known_contacts = {
            row.id: row.account_id
            for row in session.execute(
                select(Contact.id, Contact.account_id).where(Contact.id.in_(_storable(contacts)))
            )
        }
        for user_id in sorted(users - known_users):
            errors.append(FieldError(name, f"mentions user {user_id}, who does not exist"))
        for contact_id in sorted(contacts):
            if contact_id not in known_contacts:
                errors.append(
                    FieldError(name, f"mentions contact {contact_id}, who does not exist")
                )
            elif known_contacts[contact_id] != account_id:
                errors.append(
                    FieldError(name, f"mentions contact {contact_id}, who is not this customer's")
                )
    return errors


def _storable(ids: set[int]) -> list[int]:
    return [i for i in ids if 1 <= i <= DB_INT_MAX]


def _check(session: Session, state: dict[str, Any], keep_reasons: Sequence[str] = ()) -> None:
    errors = _kind_errors(state)
    account_id = state["account_id"]
    contact_id = state.get("contact_id")
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None:
            errors.append(FieldError("contact_id", f"contact {contact_id} does not exist"))
        elif contact.account_id != account_id:
            errors.append(
                FieldError("contact_id", f"contact {contact_id} is not a contact of this customer")
            )
    if state["kind"] == "cancellation_interview" and state.get("reason_keys"):
        try:
            reasons.check_reason_keys(session, state["reason_keys"], keep=keep_reasons)
        except InvalidInput as exc:
            errors.extend(exc.errors)
    errors.extend(_mention_errors(session, account_id, state))
    if errors:
        raise InvalidInput(errors)


def _sync_mentions(session: Session, entry: TimelineEntry) -> None:
    """Replace the entry's mention rows with the people its text mentions now."""
    session.execute(delete(Mention).where(Mention.entity == ENTITY, Mention.entity_id == entry.id))
    seen: dict[tuple[str, int], None] = {}
    for name in MENTION_FIELDS:
        for found in mentions(getattr(entry, name)):
            seen[found] = None
    session.add_all(
        Mention(
            entity=ENTITY,
            entity_id=entry.id,
            account_id=entry.account_id,
            user_id=ident if kind == "user" else None,
            contact_id=ident if kind == "contact" else None,
        )
        for kind, ident in seen
    )


def mentioned(session: Session, entry_id: int) -> list[Mention]:
    return list(
        session.scalars(
            select(Mention)
            .where(Mention.entity == ENTITY, Mention.entity_id == entry_id)
            .order_by(Mention.id)
        )
    )


# ---------------------------------------------------------------- writing


def create_entry(session: Session, actor: Actor, data: EntryIn) -> TimelineEntry:
    """Write a new entry; a resolved trouble without a resolved time is resolved now."""
    get_account(session, data.account_id)
    state = data.model_dump()
    state["occurred_at"] = _utc(data.occurred_at)
    state["resolved_at"] = _utc(data.resolved_at)
    if data.kind == "trouble" and data.status == "resolved" and data.resolved_at is None:
        state["resolved_at"] = max(utcnow(), state["occurred_at"])
    _check(session, state)
    entry = TimelineEntry(**state, author_id=actor.user_id, details={})
    session.add(entry)
    session.flush()
    add_revision(session, actor, ENTITY, entry.id, entry.version, _fields(entry))
    record(session, actor, "create", ENTITY, entry.id, None, snapshot(entry))
    _sync_mentions(session, entry)
    _index(session, entry)
    return entry


def _fields(entry: TimelineEntry) -> dict[str, Any]:
    names = (*TEXT_FIELDS, "occurred_at", "contact_id", "severity", "status", "resolved_at",
             "reason_keys")  # fmt: skip
    return {n: getattr(entry, n) for n in names}


def update_entry(session: Session, actor: Actor, entry_id: int, data: EntryPatch) -> TimelineEntry:
    """Change the fields sent. A trouble moved to resolved is resolved now unless a time is
    given; moved back, it loses its resolved time. A stale version raises EditConflict."""
    entry = get_entry(session, entry_id)
    changes = {k: getattr(data, k) for k in data.model_fields_set if k != "version"}
    for name in ("occurred_at", "resolved_at"):
        if name in changes:
            changes[name] = _utc(changes[name])
    state = _fields(entry) | {"account_id": entry.account_id, "kind": entry.kind} | changes
    if entry.kind == "trouble":
        newly_resolved = state["status"] == "resolved" and entry.status != "resolved"
        if newly_resolved and changes.get("resolved_at") is None:
            changes["resolved_at"] = state["resolved_at"] = max(utcnow(), state["occurred_at"])
        reopened = state["status"] != "resolved" and "resolved_at" not in changes
        if reopened and entry.resolved_at is not None:
            changes["resolved_at"] = state["resolved_at"] = None
    _check(session, state, keep_reasons=entry.reason_keys or [])
    if save_fields(session, actor, ENTITY, entry, data.version, changes, text_fields=TEXT_FIELDS):
        _sync_mentions(session, entry)
        _index(session, entry)
    return entry


def delete_entry(session: Session, actor: Actor, entry_id: int, *, confirm: bool) -> None:
    """Delete an entry with its history and mentions, once the writer confirmed."""
    entry = get_entry(session, entry_id)
    if not confirm:
        raise ConfirmationRequired(
            f"deleting the timeline entry {entry.title!r} also deletes its history; confirm it",
            {"entry": entry.id, "revisions": True},
        )
    before = snapshot(entry)
    session.execute(delete(Mention).where(Mention.entity == ENTITY, Mention.entity_id == entry.id))
    forget(session, ENTITY, entry.id)
    _unindex(session, entry.id)
    session.delete(entry)
    session.flush()
    record(session, actor, "delete", ENTITY, entry_id, before, None)


# ---------------------------------------------------------------- search


def _doc(entry: TimelineEntry, labels: dict[str, str]) -> Doc:
    from banso.search.documents import Doc

    parts = [entry.body or ""]
    parts += [getattr(entry, n) or "" for n in ("resolution", "hypothesis", "improvement")]
    parts += [labels.get(k, k) for k in entry.reason_keys or []]
    return Doc(
        kind=ENTITY,
        ref_id=entry.id,
        account_id=entry.account_id,
        author_id=entry.author_id,
        occurred_at=entry.occurred_at,
        title=entry.title,
        body="\n\n".join(p for p in parts if p),
        url=f"/timeline/{entry.id}",
    )


def _both_labels(session: Session) -> dict[str, str]:
    """Reason labels in both languages, so either finds the interview."""
    return {
        r.key: f"{r.label_ja} {r.label_en}" for r in session.scalars(select(CancellationReason))
    }


def _index(session: Session, entry: TimelineEntry) -> None:
    from banso.search.documents import put

    put(session, _doc(entry, _both_labels(session)))


def _unindex(session: Session, entry_id: int) -> None:
    from banso.search.documents import drop

    drop(session, ENTITY, entry_id)


def search_documents(session: Session) -> Iterator[Doc]:
    """Every timeline entry as a search document (for ``banso search reindex``)."""
    labels = _both_labels(session)
    stmt = select(TimelineEntry).order_by(TimelineEntry.id).execution_options(yield_per=1000)
    for entry in session.scalars(stmt):
        yield _doc(entry, labels)


# ---------------------------------------------------------------- troubles


def resolution_time(entry: TimelineEntry) -> timedelta | None:
    """How long a resolved trouble took: resolved_at - occurred_at."""
    if entry.resolved_at is None:
        return None
    return entry.resolved_at - entry.occurred_at


@dataclass(frozen=True)
class TroubleRow:
    entry: TimelineEntry
    account_name: str
    owner_name: str | None
    age: timedelta  # since it occurred (open ones) or until it was resolved
    resolution_time: timedelta | None


TROUBLE_SORTS = {
    "occurred_at": SortKey(TimelineEntry.occurred_at),
    "resolved_at": SortKey(TimelineEntry.resolved_at, datetime(1970, 1, 1, tzinfo=UTC)),
}


def troubles(
    session: Session,
    *,
    resolved: bool = False,
    status: str | None = None,
    severity: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TroubleRow]:
    """Open troubles across customers, oldest first; or resolved ones, latest resolved first."""
    if severity is not None and severity not in TROUBLE_SEVERITIES:
        raise InvalidInput.one("severity", f"use one of {TROUBLE_SEVERITIES}")
    allowed = ("resolved",) if resolved else OPEN_STATUSES
    if status is not None and status not in allowed:
        raise InvalidInput.one("status", f"use one of {allowed}")
    stmt = select(TimelineEntry).where(
        TimelineEntry.kind == "trouble",
        TimelineEntry.status.in_([status] if status else allowed),
    )
    if severity:
        stmt = stmt.where(TimelineEntry.severity == severity)
    page = paginate(
        session, stmt, id_column=TimelineEntry.id, sortable=TROUBLE_SORTS,
        sort="-resolved_at" if resolved else "occurred_at", cursor=cursor, limit=limit,
    )  # fmt: skip
    accounts = {
        a.id: a
        for a in session.scalars(
            select(Account).where(Account.id.in_({e.account_id for e in page.items}))
        )
    }
    owner_ids = {a.owner_id for a in accounts.values() if a.owner_id}
    owners = {
        row.id: row.name
        for row in session.execute(select(User.id, User.name).where(User.id.in_(owner_ids)))
    }
    now = utcnow()
    rows = []
    for entry in page.items:
        account = accounts[entry.account_id]
        took = resolution_time(entry)
        rows.append(
            TroubleRow(
                entry=entry,
                account_name=account.name,
                owner_name=owners.get(account.owner_id) if account.owner_id else None,
                age=took if took is not None else now - entry.occurred_at,
                resolution_time=took,
            )
        )
    return Page(items=rows, next_cursor=page.next_cursor)


# ---------------------------------------------------------------- the stream


def _rank(item: StreamItem) -> tuple[datetime, int, int]:
    return (item.occurred_at, _SOURCE_RANK.get(item.kind, _ENTRY_RANK), item.ref_id or 0)


def stream_cursor(item: StreamItem) -> str:
    """The cursor for the items older than ``item`` (the "older" link)."""
    moment, rank, ref = _rank(item)
    raw = json.dumps({"t": moment.isoformat(), "r": rank, "i": ref})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        moment = datetime.fromisoformat(data["t"])
        rank, ref = int(data["r"]), int(data["i"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput.one("before", "this link to older items is broken") from exc
    if moment.tzinfo is None:
        raise InvalidInput.one("before", "this link to older items is broken")
    return moment.astimezone(UTC), rank, ref


def _entry_item(entry: TimelineEntry) -> StreamItem:
    took = resolution_time(entry)
    return StreamItem(
        kind=entry.kind,
        occurred_at=entry.occurred_at,
        title=entry.title,
        url=f"/timeline/{entry.id}",
        body=entry.body or "",
        author_id=entry.author_id,
        ref_id=entry.id,
        extra={
            "severity": entry.severity,
            "status": entry.status,
            "resolved_at": entry.resolved_at,
            "resolution_time": took,
            "reason_keys": list(entry.reason_keys or []),
            "contact_id": entry.contact_id,
        },
    )


def _entries(
    session: Session, account_id: int, kinds: set[str], since: datetime | None,
    until: datetime | None, before: tuple[datetime, int, int] | None, limit: int,
) -> list[StreamItem]:  # fmt: skip
    stmt = select(TimelineEntry).where(
        TimelineEntry.account_id == account_id, TimelineEntry.kind.in_(kinds)
    )
    if since is not None:
        stmt = stmt.where(TimelineEntry.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(TimelineEntry.occurred_at <= until)
    if before is not None:
        moment, rank, ref = before
        if rank > _ENTRY_RANK:
            stmt = stmt.where(TimelineEntry.occurred_at <= moment)
        elif rank == _ENTRY_RANK:
            stmt = stmt.where(
                or_(
                    TimelineEntry.occurred_at < moment,
                    and_(TimelineEntry.occurred_at == moment, TimelineEntry.id < ref),
                )
            )
        else:
            stmt = stmt.where(TimelineEntry.occurred_at < moment)
    stmt = stmt.order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc()).limit(limit)
    return [_entry_item(e) for e in session.scalars(stmt)]


def _meeting_items(
    session: Session, account_id: int, since: datetime | None, until: datetime | None
) -> list[StreamItem]:
    from banso.meetings import service as meetings_service

    # The meetings' upper bound is exclusive; the stream's is inclusive.
    end = until + timedelta(microseconds=1) if until is not None else None
    return list(meetings_service.stream_items(session, account_id, since, end))


def account_stream(
    session: Session,
    account_id: int,
    kinds: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[StreamItem]:
    """The customer's timeline, newest first: entries, meetings, contract movements and health
    band changes, at most ``limit`` items older than the ``before`` cursor."""
    get_account(session, account_id)
    chosen = set(kinds or STREAM_KINDS)
    unknown = chosen - set(STREAM_KINDS)
    if unknown:
        raise InvalidInput.one("kind", f"unknown kind {sorted(unknown)}; use {STREAM_KINDS}")
    if not 1 <= limit <= MAX_STREAM_LIMIT:
        raise InvalidInput.one("limit", f"must be between 1 and {MAX_STREAM_LIMIT}")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput.one(name, "give a time zone")
    cursor = _decode(before) if before else None
    upper = until if cursor is None else min(cursor[0], until or cursor[0])
    items: list[StreamItem] = []
    entry_kinds = chosen & set(ENTRY_KINDS)
    if entry_kinds:
        items += _entries(session, account_id, entry_kinds, since, until, cursor, limit)
    if "meeting" in chosen:
        items += _meeting_items(session, account_id, since, upper)
    if "contract_movement" in chosen:
        items += sources.contract_items(session, account_id, since, upper)
    if "health_change" in chosen:
        items += sources.health_items(session, account_id, since, upper)
    if cursor is not None:
        items = [i for i in items if _rank(i) < cursor]
    items.sort(key=_rank, reverse=True)
    return items[:limit]


# ---------------------------------------------------------------- people to mention


@dataclass(frozen=True)
class People:
    """Whom an entry of this customer may mention or name: its contacts and our users."""

    contacts: list[Contact]
    users: list[User]

    def user_names(self) -> dict[int, str]:
        return {u.id: u.name for u in self.users}

    def contact_names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.contacts}


def people(session: Session, account_id: int) -> People:
    contacts = session.scalars(
        select(Contact)
        .where(Contact.account_id == account_id)
        .order_by(Contact.is_key_person.desc(), Contact.name, Contact.id)
        .limit(500)
    )
    users = session.scalars(select(User).order_by(User.name, User.id))
    return People(list(contacts), list(users))
