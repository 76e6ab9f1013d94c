from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from banso.notify.models import OutboxMessage
from banso.notify.outbox import (
    MAX_ATTEMPTS,
    PermanentFailure,
    backoff,
    claim,
    counts,
    deliver,
    enqueue,
    retry_failed,
)
from tests.conftest import Backend
from tests.notify.transports import Recording

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
MAIL = {"to": "bob@example.com", "subject": "リマインド", "text": "本文\n"}


def test_it_sends_due_messages_once(session: Session) -> None:
    enqueue(session, dedupe_key="a", payload=MAIL, now=NOW)
    enqueue(session, dedupe_key="later", payload=MAIL, now=NOW + timedelta(hours=1))
    transport = Recording()
    report = deliver(session, transport, now=NOW)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    assert [m["subject"] for m in transport.sent] == ["リマインド"]
    assert deliver(session, transport, now=NOW).tried == 0  # sent ones are never sent again
    assert counts(session) == {"pending": 1, "sent": 1, "failed": 0}


def test_it_retries_with_exponential_backoff_then_gives_up(session: Session) -> None:
    message = enqueue(session, dedupe_key="flaky", payload=MAIL, now=NOW)
    assert message is not None
    transport = Recording([ConnectionRefusedError("SMTP down")] * MAX_ATTEMPTS)
    when = NOW
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver(session, transport, now=when)
        session.refresh(message)
        assert report.tried == 1 and message.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert message.status == "pending"
            waits.append(message.next_attempt_at - when)
            assert (
                deliver(
                    session, transport, now=message.next_attempt_at - timedelta(seconds=1)
                ).tried
                == 0
            )
            when = message.next_attempt_at
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == timedelta(hours=1) == backoff(50)
    assert message.status == "failed" and "SMTP down" in (message.last_error or "")
    assert transport.sent == []
    assert retry_failed(session, NOW) == 1
    deliver(session, transport, now=NOW + timedelta(days=1))
    session.refresh(message)
    assert message.status == "sent" and len(transport.sent) == 1


def test_a_permanent_failure_gives_up_at_once(session: Session) -> None:
    message = enqueue(session, dedupe_key="gone", payload=MAIL, now=NOW)
    assert message is not None
    report = deliver(session, Recording([PermanentFailure("no such user")]), now=NOW)
    session.refresh(message)
    assert report.failed == 1 and message.status == "failed" and message.attempts == 1


def test_a_claimed_message_is_not_claimed_again(session: Session) -> None:
    message = enqueue(session, dedupe_key="one", payload=MAIL, now=NOW)
    assert message is not None
    assert claim(session, message.id, NOW) is not None
    assert claim(session, message.id, NOW) is None  # a second worker finds it taken


def test_two_workers_at_once_send_each_message_once(backend: Backend) -> None:
    # Real commits on separate connections: the rows live far in the future so no other test's
    # delivery can see them, and are removed afterwards.
    far = datetime(2100, 1, 1, tzinfo=UTC)
    keys = [f"race-{backend.name}-{n}" for n in range(20)]
    with Session(backend.engine) as setup:
        for key in keys:
            enqueue(setup, dedupe_key=key, payload=MAIL, now=far)
        setup.commit()
    transports = [Recording(), Recording()]
    barrier = threading.Barrier(2)

    def work(transport: Recording) -> None:
        with Session(backend.engine, expire_on_commit=False) as db:
            barrier.wait()
            deliver(db, transport, now=far + timedelta(seconds=1))

    try:
        threads = [threading.Thread(target=work, args=(t,)) for t in transports]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        total = len(transports[0].sent) + len(transports[1].sent)
        assert total == len(keys)
    finally:
        with Session(backend.engine) as cleanup:
            cleanup.execute(delete(OutboxMessage).where(OutboxMessage.dedupe_key.in_(keys)))
            cleanup.commit()
