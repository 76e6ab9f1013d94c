"""The figures the customer page shows, checked against values worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from banso.accounts.overview import (
    chart_data,
    history_points,
    merged_into,
    next_renewal,
    overview,
)
from banso.audit.service import Actor
from banso.contracts.schemas import MovementIn
from banso.contracts.service import record_movement
from banso.errors import NotFound
from tests.factories import make_account, make_contact, make_contract

TODAY = date(2026, 2, 10)


def test_it_finds_the_next_renewal_and_days_to_it(session: Session) -> None:
    account = make_account(session)
    make_contract(session, account, end_date=date(2026, 3, 31))
    make_contract(session, account, plan="Option", mrr=5_000, end_date=date(2026, 2, 28))
    # Ended already: not a renewal to prepare for.
    make_contract(session, account, plan="Old", mrr=1_000, end_date=date(2026, 1, 31))

    result = overview(session, account.id, TODAY)

    assert result.renewal is not None
    assert result.renewal.end_date == date(2026, 2, 28)
    assert result.renewal.days == 18
    assert result.account.mrr == 56_000


def test_it_has_no_renewal_when_every_contract_has_ended(session: Session) -> None:
    account = make_account(session)
    contract = make_contract(session, account, end_date=date(2025, 12, 31))

    assert next_renewal([contract], TODAY) is None


def test_it_builds_the_mrr_history_month_by_month(session: Session, actor: Actor) -> None:
    account = make_account(session)
    contract = make_contract(session, account, mrr=50_000, start_date=date(2025, 10, 15))
    record_movement(
        session,
        actor,
        contract.id,
        MovementIn(kind="expansion", effective_date=date(2025, 12, 1), mrr=80_000),
    )

    result = overview(session, account.id, TODAY)

    assert result.series == [
        (date(2025, 10, 31), 50_000),
        (date(2025, 11, 30), 50_000),
        (date(2025, 12, 31), 80_000),
        (date(2026, 1, 31), 80_000),
        (date(2026, 2, 28), 80_000),
    ]
    assert [m.mrr_after for m in result.movements] == [50_000, 80_000]
    data = chart_data(result.series, "MRR")
    assert data["labels"][0] == "2025-10-31"
    assert data["datasets"][0]["data"] == [v for _, v in result.series]


def test_it_keeps_only_the_latest_ten_years_of_history(session: Session) -> None:
    account = make_account(session)
    make_contract(session, account, start_date=date(2010, 1, 1), end_date=None)
    movements = overview(session, account.id, TODAY).movements

    points = history_points(movements, TODAY)

    assert len(points) == 120
    assert points[-1] == date(2026, 2, 28)
    assert points[0] == date(2016, 3, 31)


def test_it_lists_key_people_first(session: Session) -> None:
    account = make_account(session)
    make_contact(session, account, name="安藤 花子")
    make_contact(session, account, name="渡辺 健", is_key_person=True, role="decision_maker")

    result = overview(session, account.id, TODAY)

    assert [c.name for c in result.contacts] == ["渡辺 健", "安藤 花子"]
    assert [c.name for c in result.key_contacts] == ["渡辺 健"]


def test_it_has_an_empty_history_without_contracts(session: Session) -> None:
    account = make_account(session)

    result = overview(session, account.id, TODAY)

    assert result.series == [] and result.renewal is None and result.contracts == []


def test_it_refuses_an_unknown_account(session: Session) -> None:
    with pytest.raises(NotFound):
        overview(session, 987_654, TODAY)
    assert merged_into(session, 987_654) is None
