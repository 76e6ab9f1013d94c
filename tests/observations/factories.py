"""Observation sessions for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.observations.models import ObservationMoment, ObservationSession
from banso.observations.schemas import MomentIn, SessionIn
from banso.observations.service import add_moment, create_session


def make_session(
    session: Session, actor: Actor, account: Account, **fields: Any
) -> ObservationSession:
    data = {
        "account_id": account.id,
        "title": "初回CSV取込の観察",
        "held_at": datetime(2025, 6, 2, 5, 0, tzinfo=UTC),
        "customer_role": "経理担当（初めて使う）",
        "recording_url": "https://video.example.com/rec/1",
        **fields,
    }
    return create_session(session, actor, SessionIn(**data))


def make_moment(
    session: Session, actor: Actor, observation: ObservationSession, **fields: Any
) -> ObservationMoment:
    data = {
        "kind": "irritation",
        "step": "初期設定 > CSV取込",
        "note": "文字化けで止まった",
        **fields,
    }
    return add_moment(session, actor, observation, MomentIn(**data))
