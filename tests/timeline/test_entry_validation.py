"""Bad input on creating an entry: refused with the field named, and nothing written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import InvalidInput, NotFound
from banso.timeline.models import TimelineEntry
from banso.timeline.schemas import EntryIn
from banso.timeline.service import create_entry
from tests.factories import make_account, make_contact
from tests.timeline.helpers import entry_data


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(TimelineEntry)) or 0


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"kind": "meeting"}, "kind"),
        ({"kind": "trouble", "severity": "urgent"}, "severity"),
        ({"kind": "trouble", "status": "closed"}, "status"),
        ({"title": ""}, "title"),
        ({"title": "長" * 301}, "title"),
        ({"body": "x" * 100_001}, "body"),
        ({"body": "NUL \x00 here"}, "body"),
        ({"title": "NUL\x00"}, "title"),
        ({"occurred_at": datetime(2025, 4, 1, 10)}, "occurred_at"),
        ({"account_id": 0}, "account_id"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_it_refuses_a_malformed_entry(session: Session, fields: dict[str, Any], where: str) -> None:
    account = make_account(session)
    with pytest.raises(ValidationError) as caught:
        EntryIn(**entry_data(account, **fields))
    assert where in {str(e["loc"][0]) for e in caught.value.errors()}


def _refused(session: Session, actor: Actor, data: dict[str, Any]) -> InvalidInput:
    before = _count(session)
    with pytest.raises(InvalidInput) as caught:
        create_entry(session, actor, EntryIn(**data))
    assert _count(session) == before
    return caught.value


def _fields(error: InvalidInput) -> set[str]:
    return {e.field for e in error.errors}


def test_it_needs_a_severity_and_a_status_for_a_trouble(session: Session, actor: Actor) -> None:
    account = make_account(session)
    data = entry_data(account, kind="trouble") | {"severity": None, "status": None}
    assert _fields(_refused(session, actor, data)) == {"severity", "status"}


def test_it_needs_a_resolution_to_resolve_a_trouble(session: Session, actor: Actor) -> None:
    account = make_account(session)
    data = entry_data(account, kind="trouble", status="resolved", resolution="  ")
    assert _fields(_refused(session, actor, data)) == {"resolution"}


def test_it_refuses_trouble_fields_on_other_kinds(session: Session, actor: Actor) -> None:
    account = make_account(session)
    data = entry_data(account, kind="call", severity="low", reason_keys=["price"])
    assert _fields(_refused(session, actor, data)) == {"severity", "reason_keys"}


def test_it_refuses_an_unknown_cancellation_reason(session: Session, actor: Actor) -> None:
    account = make_account(session)
    data = entry_data(account, kind="cancellation_interview", reason_keys=["price", "no_such"])
    error = _refused(session, actor, data)
    assert _fields(error) == {"reason_keys"}
    assert "no_such" in str(error)


def test_it_needs_a_reason_for_a_cancellation_interview(session: Session, actor: Actor) -> None:
    account = make_account(session)
    data = entry_data(account, kind="cancellation_interview", reason_keys=[])
    assert _fields(_refused(session, actor, data)) == {"reason_keys"}


def test_it_refuses_an_unknown_account(session: Session, actor: Actor) -> None:
    account = make_account(session)
    with pytest.raises(NotFound):
        create_entry(session, actor, EntryIn(**entry_data(account, account_id=999_999)))


def test_it_refuses_another_customers_contact(session: Session, actor: Actor) -> None:
    account, other = make_account(session), make_account(session, name="別会社")
    stranger = make_contact(session, other)
    data = entry_data(account, contact_id=stranger.id)
    assert _fields(_refused(session, actor, data)) == {"contact_id"}
    missing = entry_data(account, contact_id=2_000_000_000)
    assert _fields(_refused(session, actor, missing)) == {"contact_id"}


def test_it_refuses_mentions_of_people_who_do_not_exist_or_belong_elsewhere(
    session: Session, actor: Actor
) -> None:
    account, other = make_account(session), make_account(session, name="別会社")
    stranger = make_contact(session, other)
    body = (
        f"@[誰か](user:987654) @[他社の人](contact:{stranger.id}) @[大きすぎ](contact:999999999999)"
    )
    error = _refused(session, actor, entry_data(account, body=body))
    messages = " ".join(e.message for e in error.errors)
    assert "user 987654" in messages
    assert f"contact {stranger.id}" in messages
    assert "contact 999999999999" in messages


def test_it_refuses_a_resolution_before_the_trouble_happened(
    session: Session, actor: Actor
) -> None:
    account = make_account(session)
    data = entry_data(
        account,
        kind="trouble",
        status="resolved",
        resolution="再起動で解消",
        resolved_at=datetime.fromisoformat("2025-03-01T10:00:00+09:00"),
    )
    assert _fields(_refused(session, actor, data)) == {"resolved_at"}
