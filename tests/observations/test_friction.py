from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import InvalidInput
from banso.observations.service import FrictionFilter, friction, friction_moments
from tests.factories import make_account
from tests.observations.factories import make_moment, make_session

CSV = "初期設定 > CSV取込"
INVOICE = "請求 > 請求書発行"


def seed(session: Session, actor: Actor) -> None:
    a, b = make_account(session, name="甲商事"), make_account(session, name="乙工業")
    june_a = make_session(session, actor, a, held_at=datetime(2025, 6, 2, tzinfo=UTC))
    june_b = make_session(session, actor, b, held_at=datetime(2025, 6, 20, tzinfo=UTC))
    may_b = make_session(session, actor, b, held_at=datetime(2025, 5, 1, tzinfo=UTC))
    make_moment(session, actor, june_a, step=CSV, severity=3, at_seconds=10)
    make_moment(session, actor, june_a, step=CSV, kind="confusion", severity=2)
    make_moment(session, actor, june_b, step=CSV, kind="idea", severity=1, note="新しい")
    make_moment(session, actor, may_b, step=INVOICE, severity=3)
    make_moment(session, actor, may_b, step=INVOICE, severity=3)
    make_moment(session, actor, may_b, step=INVOICE, kind="idea", severity=1)


def test_it_groups_friction_by_step_heaviest_first(session: Session, actor: Actor) -> None:
    seed(session, actor)

    invoice, csv = friction(session, FrictionFilter())

    assert (invoice.step, invoice.severity_sum, invoice.severity_max, invoice.accounts) == (
        INVOICE,
        7,
        3,
        1,
    )
    assert (csv.step, csv.severity_sum, csv.accounts) == (CSV, 6, 2)
    assert csv.counts == {"irritation": 1, "confusion": 1, "idea": 1}
    assert csv.latest[0].moment.note == "新しい" and csv.latest[0].account_name == "乙工業"
    assert csv.latest[-1].link == "https://video.example.com/rec/1#t=10"


def test_it_filters_by_period_and_kind(session: Session, actor: Actor) -> None:
    seed(session, actor)
    june = FrictionFilter(
        since=datetime(2025, 6, 1, tzinfo=UTC), until=datetime(2025, 7, 1, tzinfo=UTC)
    )

    (only,) = friction(session, june)
    assert only.step == CSV and only.total == 3
    ideas = friction(session, FrictionFilter(kind="idea"))
    assert {i.step: i.total for i in ideas} == {CSV: 1, INVOICE: 1}
    assert len(list(friction_moments(session, june))) == 3


def test_it_refuses_a_bad_filter(session: Session) -> None:
    with pytest.raises(InvalidInput, match="unknown kind"):
        friction(session, FrictionFilter(kind="anger"))
    with pytest.raises(InvalidInput, match="before its start"):
        friction(session, FrictionFilter(since=datetime(2025, 7, 1, tzinfo=UTC),
                                         until=datetime(2025, 6, 1, tzinfo=UTC)))  # fmt: skip
