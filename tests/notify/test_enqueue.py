from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.errors import InvalidInput
from banso.notify.models import OutboxMessage
from banso.notify.outbox import enqueue

MAIL = {"to": "bob@example.com", "subject": "【banso】期限切れのタスク", "text": "本文です。\n"}


def test_it_queues_a_message_once_per_dedupe_key(session: Session) -> None:
    first = enqueue(session, dedupe_key="reminder:1:2026-11-20", payload=MAIL)
    again = enqueue(session, dedupe_key="reminder:1:2026-11-20", payload={**MAIL, "text": "別"})
    assert first is not None and first.status == "pending" and first.attempts == 0
    assert again is None
    rows = session.scalars(select(OutboxMessage)).all()
    assert [(m.dedupe_key, m.payload["text"]) for m in rows] == [
        ("reminder:1:2026-11-20", "本文です。\n")
    ]


def test_a_duplicate_insert_that_races_the_check_keeps_the_transaction(session: Session) -> None:
    # Another writer's row arrives between the check and the insert: the savepoint absorbs it.
    enqueue(session, dedupe_key="k", payload=MAIL)
    session.add(OutboxMessage(channel="mail", dedupe_key="other", payload=MAIL))
    session.flush()
    import banso.notify.outbox as outbox

    real_scalar = session.scalar
    try:
        session.scalar = lambda *a, **k: None  # type: ignore[method-assign]
        assert outbox.enqueue(session, dedupe_key="k", payload=MAIL) is None
    finally:
        session.scalar = real_scalar  # type: ignore[method-assign]
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "fax"}, "channel"),
        ({"dedupe_key": ""}, "dedupe_key"),
        ({"dedupe_key": "k" * 201}, "dedupe_key"),
        ({"payload": {**MAIL, "to": "not an address"}}, "payload.to"),
        ({"payload": {**MAIL, "subject": "件名\r\nBcc: everyone@example.com"}}, "payload.subject"),
        ({"payload": {**MAIL, "text": "x" * 100_001}}, "payload.text"),
        ({"payload": {"to": "bob@example.com"}}, "payload.subject"),
        ({"payload": {**MAIL, "cc": "x@example.com"}}, "payload.cc"),
    ],
)
def test_it_refuses_bad_messages(session: Session, changes: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"channel": "mail", "dedupe_key": "k", "payload": MAIL, **changes}
    with pytest.raises(InvalidInput) as caught:
        enqueue(session, **args)
    assert field in {e.field for e in caught.value.errors}
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
