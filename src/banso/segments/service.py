"""Saved segments: create, list, rename and delete named views shared by the team (audited)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints, TypeAdapter
from pydantic import ValidationError as _PydanticError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.service import find
from banso.audit.service import Actor, record, snapshot
from banso.errors import Conflict, InvalidInput, NotFound
from banso.segments.models import Segment
from banso.segments.view import CustomerView


def _printable(value: str) -> str:
    if any(ord(ch) < 0x20 for ch in value):
        raise ValueError("contains a control character (tab, newline, ...); remove it")
    return value


SegmentName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]
_NAME = TypeAdapter(SegmentName)


def _checked_name(name: str) -> str:
    try:
        return _NAME.validate_python(name)
    except _PydanticError as exc:
        problem = exc.errors()[0]
        message = str(problem.get("ctx", {}).get("error") or problem["msg"])
        if problem["type"] == "string_too_short":
            message = "cannot be empty; give the segment a name"
        elif problem["type"] == "string_too_long":
            message = f"is {len(name.strip())} characters long; use at most 100"
        raise InvalidInput.one("name", message) from None


def list_segments(session: Session) -> list[Segment]:
    return list(session.scalars(select(Segment).order_by(Segment.name, Segment.id)))


def get_segment(session: Session, segment_id: int) -> Segment:
    segment = find(session, Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    return segment


def _check_unique(session: Session, name: str, own_id: int | None = None) -> None:
    taken = session.scalar(select(Segment.id).where(func.lower(Segment.name) == name.lower()))
    if taken is not None and taken != own_id:
        raise Conflict(f"a segment named {name!r} already exists; choose another name")


def create_segment(session: Session, actor: Actor, name: str, view: CustomerView) -> Segment:
    name = _checked_name(name)
    _check_unique(session, name)
    segment = Segment(name=name, view=view.as_saved(), created_by_id=actor.user_id)
    session.add(segment)
    session.flush()
    record(session, actor, "create", "segment", segment.id, None, snapshot(segment))
    return segment


def update_segment(
    session: Session,
    actor: Actor,
    segment_id: int,
    version: int,
    *,
    name: str | None = None,
    view: CustomerView | None = None,
) -> Segment:
    """Rename a segment or replace its view; ``version`` must be the one the user saw."""
    segment = get_segment(session, segment_id)
    if segment.version != version:
        raise Conflict(
            f"segment {segment.name!r} was changed by someone else meanwhile; "
            "reload the page and try again"
        )
    before = snapshot(segment)
    if name is not None:
        name = _checked_name(name)
        _check_unique(session, name, segment.id)
        segment.name = name
    if view is not None:
        segment.view = view.as_saved()
    session.flush()
    record(session, actor, "update", "segment", segment.id, before, snapshot(segment))
    return segment


def delete_segment(session: Session, actor: Actor, segment_id: int) -> None:
    segment = get_segment(session, segment_id)
    before = snapshot(segment)
    session.delete(segment)
    session.flush()
    record(session, actor, "delete", "segment", segment_id, before, None)
