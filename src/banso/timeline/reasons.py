"""The taxonomy of cancellation reasons (解約理由) an admin keeps.

A workspace starts with the usual reasons in both languages. They are written the first time
anything needs them (``banso init``, the timeline, the admin page) and only while the taxonomy
is empty, so an admin's renames, order and retirements are never undone. A reason a
cancellation interview gave cannot be deleted, only retired: old interviews keep their words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banso.audit.service import Actor, record, snapshot
from banso.errors import Conflict, InvalidInput, NotFound
from banso.i18n import current_locale
from banso.timeline.models import CancellationReason, TimelineEntry
from banso.timeline.schemas import ReasonIn, ReasonPatch

ENTITY = "cancellation_reason"
DEFAULT_REASONS: tuple[tuple[str, str, str], ...] = (
    ("price", "価格", "Price"),
    ("missing_features", "機能不足", "Missing features"),
    ("hard_to_use", "使いこなせない", "Could not make use of it"),
    ("champion_left", "担当者の異動・退職", "Champion moved or left"),
    ("business_shrank", "事業縮小・倒産", "Business shrank or closed"),
    ("competitor", "競合への乗り換え", "Switched to a competitor"),
    ("support", "サポートへの不満", "Unhappy with support"),
    ("goal_not_met", "導入目的の未達", "Did not reach the goal of adoption"),
    ("other", "その他", "Other"),
)


def ensure_default_reasons(session: Session) -> int:
    """Write the default reasons when the taxonomy is empty; returns how many were written."""
    if session.scalar(select(func.count()).select_from(CancellationReason)):
        return 0
    try:
        with session.begin_nested():  # another process may be seeding at the same moment
            session.add_all(
                CancellationReason(key=k, label_ja=ja, label_en=en, position=(i + 1) * 10)
                for i, (k, ja, en) in enumerate(DEFAULT_REASONS)
            )
    except IntegrityError:
        return 0
    return len(DEFAULT_REASONS)


def label_of(reason: CancellationReason) -> str:
    """The reason's label in the reader's language."""
    return reason.label_ja if current_locale() == "ja" else reason.label_en


def all_reasons(session: Session, *, active_only: bool = False) -> list[CancellationReason]:
    ensure_default_reasons(session)
    stmt = select(CancellationReason).order_by(CancellationReason.position, CancellationReason.key)
    if active_only:
        stmt = stmt.where(CancellationReason.is_active.is_(True))
    return list(session.scalars(stmt))


def labels(session: Session) -> dict[str, str]:
    """Every reason's label (retired ones too: old interviews still name them)."""
    return {r.key: label_of(r) for r in all_reasons(session)}


def check_reason_keys(session: Session, keys: list[str], *, keep: Iterable[str] = ()) -> None:
    """Refuse keys that are not offered; ``keep`` are keys the entry already gave (a retired
    reason an old interview named stays valid for it)."""
    offered = {r.key for r in all_reasons(session, active_only=True)} | set(keep)
    unknown = [k for k in keys if k not in offered]
    if unknown:
        raise InvalidInput.one(
            "reason_keys",
            f"unknown or retired cancellation reason {', '.join(map(repr, unknown))}; "
            f"use one of {sorted(offered)}",
        )


def usage(session: Session) -> Counter[str]:
    """How many cancellation interviews give each reason."""
    counts: Counter[str] = Counter()
    rows = session.scalars(
        select(TimelineEntry.reason_keys).where(TimelineEntry.kind == "cancellation_interview")
    )
    for keys in rows:
        counts.update(keys or [])
    return counts


def get_reason(session: Session, key: str) -> CancellationReason:
    ensure_default_reasons(session)
    reason = session.get(CancellationReason, key) if len(key) <= 40 else None
    if reason is None:
        raise NotFound("cancellation reason", key)
    return reason


def create_reason(session: Session, actor: Actor, data: ReasonIn) -> CancellationReason:
    """Add a reason at the end of the list."""
    ensure_default_reasons(session)
    if session.get(CancellationReason, data.key) is not None:
        raise Conflict(f"a cancellation reason with the key {data.key!r} already exists")
    last = session.scalar(select(func.max(CancellationReason.position))) or 0
    reason = CancellationReason(**data.model_dump(), position=last + 10, is_active=True)
    session.add(reason)
    session.flush()
    record(session, actor, "create", ENTITY, 0, None, snapshot(reason))
    return reason


def update_reason(
    session: Session, actor: Actor, key: str, data: ReasonPatch
) -> CancellationReason:
    """Rename a reason, retire it or offer it again."""
    reason = get_reason(session, key)
    before = snapshot(reason)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise InvalidInput.one(name, "cannot be empty; leave it out to keep it")
        setattr(reason, name, value)
    session.flush()
    after = snapshot(reason)
    if after != before:
        record(session, actor, "update", ENTITY, 0, before, after)
    return reason


def move_reason(session: Session, actor: Actor, key: str, direction: str) -> None:
    """Swap a reason with its neighbour above ("up") or below ("down")."""
    if direction not in ("up", "down"):
        raise InvalidInput.one("direction", "move a reason up or down")
    order = all_reasons(session)
    keys = [r.key for r in order]
    if key not in keys:
        raise NotFound("cancellation reason", key)
    i = keys.index(key)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(order):
        return
    order[i], order[j] = order[j], order[i]
    before = {r.key: r.position for r in order}
    for n, reason in enumerate(order):
        reason.position = (n + 1) * 10
    session.flush()
    record(session, actor, "reorder", ENTITY, 0, before, {r.key: r.position for r in order})


def delete_reason(session: Session, actor: Actor, key: str) -> None:
    """Delete a reason no interview gave; a reason in use can only be retired."""
    reason = get_reason(session, key)
    used = usage(session)[key]
    if used:
        raise Conflict(
            f"{used} cancellation interview(s) give the reason {key!r}; retire it instead"
        )
    before = snapshot(reason)
    session.delete(reason)
    session.flush()
    record(session, actor, "delete", ENTITY, 0, before, None)


def rows(session: Session) -> list[dict[str, Any]]:
    """The admin page's table: every reason with how often interviews give it."""
    counts = usage(session)
    return [
        {
            "key": r.key,
            "label_ja": r.label_ja,
            "label_en": r.label_en,
            "is_active": r.is_active,
            "uses": counts[r.key],
        }
        for r in all_reasons(session)
    ]
