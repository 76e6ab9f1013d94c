"""Saved segments: named, shared, renamed and deleted with the audit log keeping track."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.errors import Conflict, InvalidInput, NotFound
from banso.segments.service import (
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    update_segment,
)
from banso.segments.view import parse_view
from tests.conftest import Person


def test_it_saves_renames_and_deletes_a_segment(session: Session, bob: Person) -> None:
    view = parse_view(session, {"q": ["東京"], "f.stage": ["stable"]})
    segment = create_segment(session, bob.actor, "  東京の安定顧客 ", view)
    assert segment.name == "東京の安定顧客"
    assert segment.view["filters"] == {"stage": ["stable"]}
    update_segment(session, bob.actor, segment.id, segment.version, name="東京・安定")
    assert [s.name for s in list_segments(session)] == ["東京・安定"]
    delete_segment(session, bob.actor, segment.id)
    assert list_segments(session) == []
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "segment").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "cannot be empty"),
        ("   ", "cannot be empty"),
        ("x" * 101, "at most 100"),
        ("tab\there", "control character"),
        ("nul\x00", "control character"),
    ],
)
def test_it_refuses_a_bad_name(session: Session, bob: Person, name: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        create_segment(session, bob.actor, name, parse_view(session, {}))
    assert list_segments(session) == []


def test_it_refuses_a_taken_name_and_keeps_the_first(session: Session, bob: Person) -> None:
    first = create_segment(session, bob.actor, "VIP", parse_view(session, {"q": ["東京"]}))
    with pytest.raises(Conflict, match="already exists"):
        create_segment(session, bob.actor, "vip", parse_view(session, {}))
    assert get_segment(session, first.id).view["q"] == "東京"


def test_it_refuses_a_rename_of_a_changed_segment(session: Session, bob: Person) -> None:
    segment = create_segment(session, bob.actor, "VIP", parse_view(session, {}))
    stale = segment.version
    update_segment(session, bob.actor, segment.id, stale, name="VIP 2")
    with pytest.raises(Conflict, match="changed by someone else"):
        update_segment(session, bob.actor, segment.id, stale, name="VIP 3")
    assert get_segment(session, segment.id).name == "VIP 2"


def test_it_says_when_a_segment_does_not_exist(session: Session, bob: Person) -> None:
    with pytest.raises(NotFound):
        get_segment(session, 2**40)
