"""MRR on any past date is rebuilt from the movements, and account.mrr follows the contracts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.schemas import MovementIn
from banso.contracts.service import (
    delete_contract,
    month_ends,
    movements_of,
    mrr_by_account,
    mrr_on,
    mrr_series,
    record_movement,
)
from banso.errors import InvalidInput
from tests.factories import SYSTEM, make_account, make_contract


def move(session: Session, contract: Contract, kind: str, on: date, **fields: Any) -> None:
    record_movement(
        session, SYSTEM, contract.id, MovementIn(kind=kind, effective_date=on, **fields)
    )


@dataclass
class Book:
    """Two accounts whose contracts go through every kind of movement in 2025."""

    a: Account
    b: Account


def seed_book(session: Session) -> Book:
    a = make_account(session, name="株式会社エー")
    b = make_account(session, name="株式会社ビー")
    c1 = make_contract(session, a, mrr=100_000, start_date=date(2025, 1, 1), end_date=None)
    move(session, c1, "expansion", date(2025, 3, 1), mrr=150_000)
    move(session, c1, "contraction", date(2025, 5, 1), mrr=120_000)
    move(session, c1, "contraction", date(2025, 7, 1), pause=True)
    move(session, c1, "reactivation", date(2025, 9, 1), mrr=130_000)
    move(session, c1, "churn", date(2025, 11, 15), reason="予算削減")
    c2 = make_contract(session, b, mrr=0, status="trial", start_date=date(2025, 2, 1))
    move(session, c2, "new", date(2025, 4, 1), mrr=40_000)
    move(session, c2, "renewal", date(2025, 6, 1), mrr=45_000, end_date=date(2026, 5, 31))
    make_contract(session, b, mrr=10_000, start_date=date(2025, 8, 10), end_date=None)
    return Book(a, b)


EXPECTED_TOTALS = {
    date(2024, 12, 31): 0,
    date(2025, 1, 1): 100_000,
    date(2025, 2, 28): 100_000,  # the trial earns nothing
    date(2025, 3, 1): 150_000,
    date(2025, 4, 1): 190_000,  # trial converted
    date(2025, 5, 31): 160_000,
    date(2025, 6, 30): 165_000,  # renewal at a higher price
    date(2025, 7, 1): 45_000,  # paused
    date(2025, 8, 9): 45_000,
    date(2025, 8, 10): 55_000,
    date(2025, 9, 30): 185_000,  # reactivated
    date(2025, 11, 14): 185_000,
    date(2025, 11, 15): 55_000,  # churned
    date(2030, 1, 1): 55_000,
}


def test_it_rebuilds_total_mrr_on_past_dates(session: Session) -> None:
    seed_book(session)
    got = {day: mrr_on(session, day) for day in EXPECTED_TOTALS}
    assert got == EXPECTED_TOTALS


def test_it_rebuilds_mrr_per_account(session: Session) -> None:
    book = seed_book(session)
    assert mrr_on(session, date(2025, 9, 30), book.a.id) == 130_000
    assert mrr_on(session, date(2025, 9, 30), book.b.id) == 55_000
    assert mrr_on(session, date(2025, 7, 31), book.a.id) == 0
    assert mrr_by_account(session, date(2025, 5, 31)) == {book.a.id: 120_000, book.b.id: 40_000}
    assert mrr_by_account(session, date(2025, 12, 31)) == {book.b.id: 55_000}


def test_it_gives_the_mrr_at_every_month_end_in_one_series(session: Session) -> None:
    book = seed_book(session)
    points = month_ends(date(2024, 12, 5), date(2025, 11, 1))
    series = dict(mrr_series(session, points))
    assert series == {
        date(2024, 12, 31): 0,
        date(2025, 1, 31): 100_000,
        date(2025, 2, 28): 100_000,
        date(2025, 3, 31): 150_000,
        date(2025, 4, 30): 190_000,
        date(2025, 5, 31): 160_000,
        date(2025, 6, 30): 165_000,
        date(2025, 7, 31): 45_000,
        date(2025, 8, 31): 55_000,
        date(2025, 9, 30): 185_000,
        date(2025, 10, 31): 185_000,
        date(2025, 11, 30): 55_000,
    }
    assert dict(mrr_series(session, points, book.a.id)) == {
        day: mrr_on(session, day, book.a.id) for day in points
    }


def test_it_keeps_only_the_last_of_several_movements_on_one_day(session: Session) -> None:
    account = make_account(session)
    contract = make_contract(session, account, mrr=10_000, start_date=date(2025, 1, 1))
    move(session, contract, "expansion", date(2025, 1, 20), mrr=20_000)
    move(session, contract, "expansion", date(2025, 1, 20), mrr=35_000)
    move(session, contract, "contraction", date(2025, 2, 28), mrr=30_000)
    move(session, contract, "expansion", date(2025, 2, 28), mrr=33_000)
    assert mrr_on(session, date(2025, 1, 20)) == 35_000
    assert mrr_series(session, month_ends(date(2025, 1, 1), date(2025, 2, 1))) == [
        (date(2025, 1, 31), 35_000),
        (date(2025, 2, 28), 33_000),
    ]


def test_it_splits_a_long_series_into_several_queries(session: Session) -> None:
    """More points than one compound SELECT may hold on SQLite (500) still answer right."""
    account = make_account(session)
    make_contract(session, account, mrr=7_000, start_date=date(2000, 6, 15), end_date=None)
    decades = [
        month_ends(date(year, 1, 1), date(year + 9, 12, 1)) for year in range(1990, 2040, 10)
    ]
    points = [day for decade in decades for day in decade]
    series = mrr_series(session, points)
    assert len(series) == 600
    assert series[125] == (date(2000, 6, 30), 7_000)
    assert series[124] == (date(2000, 5, 31), 0)
    assert {value for _, value in series[125:]} == {7_000}


def test_it_refuses_a_backwards_or_endless_range() -> None:
    with pytest.raises(InvalidInput) as backwards:
        month_ends(date(2025, 5, 1), date(2025, 4, 30))
    assert backwards.value.errors[0].field == "to"
    assert len(month_ends(date(2016, 1, 1), date(2025, 12, 31))) == 120
    with pytest.raises(InvalidInput) as endless:
        month_ends(date(2016, 1, 1), date(2026, 1, 1))
    assert endless.value.errors[0].field == "from"
    assert "spans 121 months" in endless.value.errors[0].message
    assert "at most 120 points" in endless.value.errors[0].message


def test_it_counts_only_contracts_in_the_currency_asked_for(session: Session) -> None:
    account = make_account(session)
    make_contract(session, account, mrr=50_000, start_date=date(2025, 1, 1))
    make_contract(session, account, mrr=1_999, currency="usd", start_date=date(2025, 1, 1))
    assert mrr_on(session, date(2025, 2, 1)) == 50_000
    assert mrr_on(session, date(2025, 2, 1), currency="USD") == 1_999
    session.refresh(account)
    assert account.mrr == 50_000


def active_total(session: Session, account: Account) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Contract.mrr), 0)).where(
            Contract.account_id == account.id, Contract.status == "active"
        )
    )
    return int(total or 0)


def test_it_keeps_account_mrr_equal_to_its_active_contracts(session: Session) -> None:
    account = make_account(session)
    first = make_contract(session, account, mrr=30_000, start_date=date(2025, 1, 1))
    trial = make_contract(session, account, mrr=0, status="trial", start_date=date(2025, 1, 1))
    steps = [
        (first, "expansion", {"mrr": 45_000}, 45_000),
        (trial, "new", {"mrr": 5_000}, 50_000),
        (first, "contraction", {"pause": True}, 5_000),
        (first, "reactivation", {"mrr": 40_000}, 45_000),
        (trial, "churn", {}, 40_000),
    ]
    for day, (contract, kind, fields, expected) in enumerate(steps, start=2):
        move(session, contract, kind, date(2025, 1, day), **fields)
        session.refresh(account)
        assert account.mrr == active_total(session, account) == expected, kind
    delete_contract(session, SYSTEM, first.id, confirm=True)
    session.refresh(account)
    assert account.mrr == 0


def test_it_makes_the_movements_of_a_contract_add_up_to_what_it_earns(session: Session) -> None:
    """An MRR bridge (new + expansion - contraction - churn ...) sums deltas; none may drift."""
    seed_book(session)
    quoted = make_contract(session, make_account(session), mrr=60_000, status="trial")
    first = movements_of(session, quoted.id)[0]
    assert (first.kind, first.status_after, first.mrr_delta) == ("new", "trial", 0)
    move(session, quoted, "new", date(2026, 5, 1), mrr=55_000)
    delta = func.sum(ContractMovement.mrr_after - ContractMovement.mrr_before)
    summed = dict(
        session.execute(select(ContractMovement.contract_id, delta).group_by("contract_id")).all()
    )
    earned = {c.id: c.mrr if c.status == "active" else 0 for c in session.scalars(select(Contract))}
    assert summed == earned
    assert summed[quoted.id] == 55_000
