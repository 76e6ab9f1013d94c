"""The pipeline's rules: lost and archived deals give a reason; closed dates follow the stage."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from banso.deals.schemas import DealPatch, ReasonPatch
from banso.deals.service import get_deal, today, update_deal, update_reason
from banso.errors import InvalidInput
from tests.deals.factories import make_deal
from tests.factories import SYSTEM


def move(session: Session, deal_id: int, **fields: object) -> object:
    version = get_deal(session, deal_id).version
    return update_deal(session, SYSTEM, deal_id, DealPatch(version=version, **fields))


def refused(session: Session, deal_id: int, **fields: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        move(session, deal_id, **fields)
    return caught.value


def test_it_refuses_a_lost_stage_without_a_reason(session: Session) -> None:
    deal = make_deal(session)
    error = refused(session, deal.id, stage_key="lost")
    assert error.errors[0].field == "lost_reason_key"
    assert "price" in error.errors[0].message  # says which reasons would do
    assert deal.stage_key == "inquiry" and deal.version == 1


def test_it_refuses_a_reason_of_the_other_kind(session: Session) -> None:
    deal = make_deal(session)
    error = refused(session, deal.id, stage_key="lost", lost_reason_key="duplicate")
    assert error.errors[0].field == "lost_reason_key"
    assert "kind archived" in error.errors[0].message
    error = refused(session, deal.id, stage_key="archived", lost_reason_key="price")
    assert "kind lost" in error.errors[0].message


def test_losing_sets_the_closed_date_unless_given(session: Session) -> None:
    deal = make_deal(session)
    move(session, deal.id, stage_key="lost", lost_reason_key="competitor", lost_reason_text="A社")
    assert (deal.lost_reason_key, deal.lost_reason_text) == ("competitor", "A社")
    assert deal.closed_date == today(session)
    other = make_deal(session)
    move(
        session,
        other.id,
        stage_key="archived",
        lost_reason_key="no_response",
        closed_date=date(2025, 3, 31),
    )
    assert other.closed_date == date(2025, 3, 31)


def test_moving_back_to_an_open_stage_clears_reason_and_closed_date(session: Session) -> None:
    deal = make_deal(session, stage_key="lost", lost_reason_key="timing", lost_reason_text="来期")
    assert deal.closed_date is not None
    move(session, deal.id, stage_key="proposal")
    assert (deal.lost_reason_key, deal.lost_reason_text, deal.closed_date) == (None, None, None)


def test_an_open_deal_takes_no_reason_or_closed_date(session: Session) -> None:
    deal = make_deal(session)
    assert refused(session, deal.id, lost_reason_key="price").errors[0].field == "lost_reason_key"
    assert refused(session, deal.id, closed_date="2025-01-01").errors[0].field == "closed_date"


def test_winning_by_stage_sets_the_closed_date(session: Session) -> None:
    deal = make_deal(session)
    move(session, deal.id, stage_key="won")
    assert deal.closed_date == today(session) and deal.lost_reason_key is None


def test_moving_between_closed_stages_needs_a_matching_reason(session: Session) -> None:
    deal = make_deal(session, stage_key="lost", lost_reason_key="price", closed_date="2025-02-01")
    assert refused(session, deal.id, stage_key="archived").errors[0].field == "lost_reason_key"
    move(session, deal.id, stage_key="archived", lost_reason_key="not_target")
    assert deal.closed_date == date(2025, 2, 1)  # closed already: the date stays


def test_unknown_stage_and_reason_keys_name_the_field(session: Session) -> None:
    deal = make_deal(session)
    error = refused(session, deal.id, stage_key="nope")
    assert error.errors[0].field == "stage_key" and "inquiry" in error.errors[0].message
    error = refused(session, deal.id, stage_key="lost", lost_reason_key="nope")
    assert error.errors[0].field == "lost_reason_key"


def test_a_retired_reason_is_not_offered_but_kept(session: Session) -> None:
    deal = make_deal(session, stage_key="lost", lost_reason_key="timing")
    update_reason(session, SYSTEM, "timing", ReasonPatch(is_active=False))
    move(session, deal.id, title="理由はそのまま")  # a deal that already gives it keeps it
    assert deal.lost_reason_key == "timing"
    other = make_deal(session)
    error = refused(session, other.id, stage_key="lost", lost_reason_key="timing")
    assert "no longer in use" in error.errors[0].message
