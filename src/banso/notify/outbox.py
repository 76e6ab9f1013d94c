"""The outbox: queue a message once, deliver it with retries, never send it twice.

A message is queued under a ``dedupe_key``; queuing the same key again does nothing, so a
re-run of whatever queued it (a reminder run, a playbook step) sends nothing new.

Delivery claims each due message with a conditional UPDATE committed before sending: it moves
``next_attempt_at`` past ``now`` (a lease) and counts the attempt only if the message is still
pending and due. A second worker's UPDATE then matches no row, so it skips the message. A worker
that dies mid-send leaves the message pending; it is tried again when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banso.db import utcnow
from banso.errors import FieldError, InvalidInput
from banso.notify.models import CHANNELS, OUTBOX_STATUSES, OutboxMessage
from banso.text import LongText

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# How long a claimed message is left alone before another worker may try it again (a worker
# that crashed mid-send); longer than any send takes.
LEASE = timedelta(minutes=10)
_ERROR_CHARS = 2000


class Transport(Protocol):
    """Sends one message of a channel; raises on failure (PermanentFailure: do not retry)."""

    def send(self, channel: str, payload: Mapping[str, Any]) -> None: ...


class PermanentFailure(Exception):
    """A send that can never succeed (the recipient does not exist): give up at once."""


class MailPayload(BaseModel):
    """What a mail message carries. Text is UTF-8 (Japanese subjects and bodies are fine)."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=3, max_length=320, pattern=r"^[^\s@]+@[^\s@]+$")
    subject: str = Field(min_length=1, max_length=500, pattern=r"^[^\r\n\x00]*$")
    text: LongText


_PAYLOADS: dict[str, type[BaseModel]] = {"mail": MailPayload}


# ------------------------------------------------------------------ queuing


def enqueue(
    session: Session,
    *,
    channel: str = "mail",
    dedupe_key: str,
    payload: Mapping[str, Any],
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue a message; None when a message with this ``dedupe_key`` was queued before."""
    checked = _check(channel, dedupe_key, payload)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    message = OutboxMessage(
        channel=channel,
        dedupe_key=dedupe_key,
        payload=checked,
        status="pending",
        attempts=0,
        next_attempt_at=now or utcnow(),
    )
    # Another transaction may queue the same key between the check and the insert: the unique
    # constraint refuses the second row, and the savepoint keeps the caller's transaction.
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


def _check(channel: str, dedupe_key: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    if channel not in CHANNELS:
        errors.append(FieldError("channel", f"unknown channel {channel!r}; use one of {CHANNELS}"))
    if not 1 <= len(dedupe_key) <= 200 or "\x00" in dedupe_key:
        errors.append(FieldError("dedupe_key", "must be 1 to 200 characters, without NUL"))
    if errors:
        raise InvalidInput(errors)
    try:
        return _PAYLOADS[channel].model_validate(dict(payload)).model_dump()
    except ValidationError as exc:
        raise InvalidInput(
            [
                FieldError("payload." + ".".join(str(p) for p in e["loc"]), e["msg"])
                for e in exc.errors()
            ]
        ) from exc


# ------------------------------------------------------------------ delivering


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another worker first

    @property
    def tried(self) -> int:
        return self.sent + self.retrying + self.failed


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1 min, 2, 4, ... at most 1 h."""
    return min(FIRST_RETRY * 2 ** min(max(0, attempts - 1), 20), LONGEST_RETRY)


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    stmt = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Claimed:
    """A message a worker took: what to send, and the attempt this is."""

    id: int
    channel: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Outcome:
    message: Claimed
    status: str  # sent, pending (to retry) or failed
    error: str | None


def claim(session: Session, message_id: int, now: datetime) -> Claimed | None:
    """Take a due pending message for this worker (committed), or None if another has it.

    Every statement here and in :func:`_finish` opens its own short transaction with a write,
    so SQLite never has to upgrade a reader to a writer while another worker writes.
    """
    row = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
        .returning(OutboxMessage.channel, OutboxMessage.payload, OutboxMessage.attempts)
    ).first()
    session.commit()
    if row is None:
        return None
    return Claimed(message_id, str(row[0]), dict(row[1]), int(row[2]))


def _finish(session: Session, message_id: int, values: dict[str, Any]) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
    session.commit()


def deliver(
    session: Session,
    transport: Transport,
    *,
    now: datetime | None = None,
    limit: int = 100,
    max_attempts: int = MAX_ATTEMPTS,
    progress: Callable[[Outcome], None] | None = None,
) -> DeliveryReport:
    """Send up to ``limit`` due messages; commits after each claim and each outcome."""
    now = now or utcnow()
    report = DeliveryReport()
    ids = due_ids(session, now, limit)
    session.commit()
    for message_id in ids:
        message = claim(session, message_id, now)
        if message is None:
            report.skipped += 1
            continue
        try:
            transport.send(message.channel, message.payload)
        except Exception as exc:  # any failure of the far side is recorded, never raised
            error = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
            if isinstance(exc, PermanentFailure) or message.attempts >= max_attempts:
                outcome = Outcome(message, "failed", error)
                _finish(session, message_id, {"status": "failed", "last_error": error})
                report.failed += 1
            else:
                outcome = Outcome(message, "pending", error)
                retry_at = now + backoff(message.attempts)
                _finish(session, message_id, {"next_attempt_at": retry_at, "last_error": error})
                report.retrying += 1
        else:
            outcome = Outcome(message, "sent", None)
            _finish(session, message_id, {"status": "sent", "sent_at": now, "last_error": None})
            report.sent += 1
        if progress is not None:
            progress(outcome)
    return report


# ------------------------------------------------------------------ reading and retrying


def messages(session: Session, status: str, limit: int = 100) -> list[OutboxMessage]:
    """Messages of one status, those due first."""
    if status not in OUTBOX_STATUSES:
        raise InvalidInput.one("status", f"unknown status {status!r}; use one of {OUTBOX_STATUSES}")
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == status)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def counts(session: Session) -> dict[str, int]:
    """How many messages are pending, sent and failed."""
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    found = {str(status): int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in OUTBOX_STATUSES}


def retry_failed(session: Session, now: datetime | None = None) -> int:
    """Put every failed message back in the queue (after fixing the mail settings, say)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
