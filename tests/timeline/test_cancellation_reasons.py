"""The cancellation reasons: seeded once when empty, kept by the admin, retired when used."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import Conflict, InvalidInput, NotFound
from banso.timeline import reasons
from banso.timeline.models import CancellationReason
from banso.timeline.schemas import ReasonIn, ReasonPatch
from tests.factories import make_account
from tests.timeline.helpers import make_entry


def test_it_seeds_the_defaults_once(session: Session) -> None:
    assert reasons.ensure_default_reasons(session) == len(reasons.DEFAULT_REASONS)
    assert reasons.ensure_default_reasons(session) == 0
    labels = {r.label_ja for r in reasons.all_reasons(session)}
    assert {"価格", "機能不足", "使いこなせない", "担当者の異動・退職", "その他"} <= labels


def test_it_never_undoes_an_admins_changes(session: Session, actor: Actor) -> None:
    reasons.update_reason(session, actor, "price", ReasonPatch(label_ja="料金", is_active=False))
    reasons.ensure_default_reasons(session)
    price = reasons.get_reason(session, "price")
    assert (price.label_ja, price.is_active) == ("料金", False)
    assert "price" not in {r.key for r in reasons.all_reasons(session, active_only=True)}


def test_it_adds_moves_and_deletes_unused_reasons(session: Session, actor: Actor) -> None:
    added = reasons.create_reason(
        session, actor, ReasonIn(key="merger", label_ja="合併", label_en="Merger")
    )
    assert reasons.all_reasons(session)[-1].key == "merger"
    reasons.move_reason(session, actor, "merger", "up")
    assert [r.key for r in reasons.all_reasons(session)][-2:] == ["merger", "other"]
    reasons.delete_reason(session, actor, added.key)
    assert session.get(CancellationReason, "merger") is None


def test_it_keeps_a_reason_in_use(session: Session, actor: Actor) -> None:
    make_entry(
        session,
        actor,
        make_account(session),
        kind="cancellation_interview",
        reason_keys=["competitor"],
    )
    with pytest.raises(Conflict):
        reasons.delete_reason(session, actor, "competitor")
    assert reasons.usage(session)["competitor"] == 1


def test_it_refuses_bad_reasons(session: Session, actor: Actor) -> None:
    reasons.ensure_default_reasons(session)
    with pytest.raises(Conflict):
        reasons.create_reason(session, actor, ReasonIn(key="price", label_ja="価格", label_en="P"))
    for bad in (
        {"key": "Bad Key", "label_ja": "x", "label_en": "x"},
        {"key": "ok", "label_ja": "", "label_en": "x"},
        {"key": "ok", "label_ja": "x\x00", "label_en": "x"},
    ):
        with pytest.raises(ValidationError):
            ReasonIn(**bad)
    with pytest.raises(NotFound):
        reasons.update_reason(session, actor, "nope", ReasonPatch(label_ja="x"))
    with pytest.raises(InvalidInput):
        reasons.update_reason(session, actor, "price", ReasonPatch(label_ja=None))
    with pytest.raises(InvalidInput):
        reasons.move_reason(session, actor, "price", "sideways")
    count = session.scalar(select(func.count()).select_from(CancellationReason))
    assert count == len(reasons.DEFAULT_REASONS)
