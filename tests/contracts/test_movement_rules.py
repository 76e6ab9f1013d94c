"""The rules a movement must follow, each refused with a message that says how to fix it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.orm import Session

from banso.audit.service import history
from banso.contracts.models import Contract
from banso.contracts.schemas import ContractIn, ContractPatch, MovementIn
from banso.contracts.service import movements_of, record_movement, update_contract
from banso.errors import Conflict, InvalidInput, NotFound
from tests.factories import SYSTEM, make_account, make_contract

START = date(2025, 4, 1)


def active(session: Session, **fields: Any) -> Contract:
    return make_contract(session, make_account(session), start_date=START, mrr=50_000, **fields)


def move(session: Session, contract_id: int, kind: str, on: date, **fields: Any) -> Any:
    return record_movement(
        session, SYSTEM, contract_id, MovementIn(kind=kind, effective_date=on, **fields)
    )


def refused(session: Session, contract: Contract, kind: str, on: date, **fields: Any) -> str:
    """Record a movement that must fail; return 'field: message' and check nothing changed."""
    before = (contract.mrr, contract.status, len(movements_of(session, contract.id)))
    with pytest.raises(InvalidInput) as caught:
        move(session, contract.id, kind, on, **fields)
    session.refresh(contract)
    assert (contract.mrr, contract.status, len(movements_of(session, contract.id))) == before
    return str(caught.value)


def test_it_records_an_expansion_with_its_delta(session: Session) -> None:
    contract = active(session)
    movement = move(session, contract.id, "expansion", date(2025, 6, 1), mrr=80_000, seats=16)
    assert (movement.mrr_before, movement.mrr_after, movement.mrr_delta) == (50_000, 80_000, 30_000)
    assert (movement.seats_before, movement.seats_after) == (10, 16)
    assert (contract.mrr, contract.seats, contract.version) == (80_000, 16, 2)


@pytest.mark.parametrize("mrr", [50_000, 49_999, None])
def test_it_refuses_an_expansion_that_does_not_raise_mrr(session: Session, mrr: int | None) -> None:
    contract = active(session)
    message = refused(session, contract, "expansion", date(2025, 6, 1), mrr=mrr)
    assert message == "mrr: an expansion must raise MRR above 50000"


def test_it_refuses_a_contraction_that_does_not_lower_mrr(session: Session) -> None:
    contract = active(session)
    message = refused(session, contract, "contraction", date(2025, 6, 1), mrr=60_000)
    assert message == "mrr: a contraction must lower MRR below 50000"
    to_zero = refused(session, contract, "contraction", date(2025, 6, 1), mrr=0)
    assert "record kind 'churn'" in to_zero


def test_it_refuses_a_back_dated_movement_naming_the_latest_date(session: Session) -> None:
    contract = active(session)
    move(session, contract.id, "expansion", date(2025, 9, 15), mrr=60_000)
    message = refused(session, contract, "expansion", date(2025, 9, 14), mrr=70_000)
    assert message.startswith("effective_date:")
    assert "latest is on 2025-09-15" in message
    before_start = refused(session, active(session), "expansion", date(2025, 3, 31), mrr=90_000)
    assert "latest is on 2025-04-01" in before_start


def test_it_refuses_to_expand_a_churned_contract(session: Session) -> None:
    contract = active(session)
    move(session, contract.id, "churn", date(2025, 8, 31), reason="予算削減")
    assert (contract.status, contract.mrr, contract.end_date) == ("churned", 0, date(2025, 8, 31))
    message = refused(session, contract, "expansion", date(2025, 9, 1), mrr=90_000)
    assert message == "kind: the contract is churned; record a reactivation first"
    again = refused(session, contract, "churn", date(2025, 9, 1))
    assert again == "kind: the contract has already churned"


@pytest.mark.parametrize("value", [80_000.0, 80_000.5, True])
def test_it_refuses_an_mrr_that_is_not_a_whole_number(value: Any) -> None:
    with pytest.raises(ValidationError, match="whole number of minor units"):
        MovementIn(kind="expansion", effective_date=START, mrr=value)
    with pytest.raises(ValidationError, match="whole number of minor units"):
        ContractIn(account_id=1, plan="Standard", mrr=value, start_date=START)


def test_it_pauses_and_reactivates(session: Session) -> None:
    contract = active(session)
    paused = move(session, contract.id, "contraction", date(2025, 6, 1), pause=True)
    assert (paused.mrr_before, paused.mrr_after, paused.status_after) == (50_000, 0, "paused")
    message = refused(session, contract, "expansion", date(2025, 7, 1), mrr=60_000)
    assert "paused; record a reactivation first" in message
    needs_mrr = refused(session, contract, "reactivation", date(2025, 7, 1))
    assert needs_mrr == "mrr: a reactivation needs the MRR it comes back with"
    back = move(session, contract.id, "reactivation", date(2025, 7, 1), mrr=45_000)
    assert (back.mrr_before, back.mrr_after, contract.status) == (0, 45_000, "active")


def test_it_refuses_fields_a_movement_would_silently_ignore(session: Session) -> None:
    contract = active(session)
    on = date(2025, 6, 1)
    assert refused(session, contract, "expansion", on, mrr=60_000, pause=True) == (
        "pause: only a contraction can pause a contract"
    )
    assert "leave mrr out" in refused(session, contract, "churn", on, mrr=10_000)
    assert "paused contract has no MRR" in refused(
        session, contract, "contraction", on, mrr=10_000, pause=True
    )
    assert refused(session, contract, "reactivation", on, mrr=10_000).startswith("kind: only")


def test_it_renews_with_a_new_term_end(session: Session) -> None:
    contract = active(session)
    missing = refused(session, contract, "renewal", date(2026, 3, 1))
    assert missing == "end_date: a renewal needs the new term end"
    backwards = refused(session, contract, "renewal", date(2026, 3, 1), end_date=date(2026, 2, 1))
    assert backwards.startswith("end_date: is before the movement's date 2026-03-01")
    move(session, contract.id, "renewal", date(2026, 3, 1), end_date=date(2027, 3, 31))
    assert (contract.end_date, contract.mrr, contract.status) == (
        date(2027, 3, 31),
        50_000,
        "active",
    )


def test_it_converts_a_trial_with_new_and_nothing_else(session: Session) -> None:
    trial = active(session, status="trial")
    assert "convert it with kind 'new'" in refused(
        session, trial, "expansion", date(2025, 5, 1), mrr=60_000
    )
    assert (
        refused(session, trial, "new", date(2025, 5, 1)) == "mrr: converting a trial needs its MRR"
    )
    converted = move(session, trial.id, "new", date(2025, 5, 1), mrr=60_000, plan="Pro")
    assert (converted.mrr_before, converted.mrr_after) == (0, 60_000)
    assert (trial.status, trial.plan) == ("active", "Pro")
    assert "only for converting a trial" in refused(session, trial, "new", date(2025, 6, 1), mrr=1)


def test_it_refuses_a_stale_version_and_an_unknown_contract(session: Session) -> None:
    contract = active(session)
    with pytest.raises(Conflict, match="you read version 7, it is now 1") as caught:
        move(session, contract.id, "expansion", date(2025, 6, 1), mrr=60_000, version=7)
    assert caught.value.current is not None and caught.value.current["mrr"] == 50_000
    move(session, contract.id, "expansion", date(2025, 6, 1), mrr=60_000, version=1)
    for missing in (0, -1, 999_999, 2**31, 2**63):
        with pytest.raises(NotFound):
            move(session, missing, "churn", date(2025, 6, 1))


def someone_else_saves(session: Session, contract: Contract) -> None:
    """Another writer commits a change after this one read the contract (bypassing the ORM)."""
    table = Contract.__table__
    session.execute(
        update(table).where(table.c.id == contract.id).values(version=table.c.version + 1)
    )


def test_it_answers_a_lost_race_with_a_conflict(session: Session) -> None:
    contract = active(session)
    someone_else_saves(session, contract)
    with pytest.raises(Conflict, match="changed by someone else while you saved"):
        move(session, contract.id, "expansion", date(2025, 6, 1), mrr=60_000)
    session.rollback()
    other = active(session)
    someone_else_saves(session, other)
    with pytest.raises(Conflict, match="reload it and apply your change again"):
        update_contract(session, SYSTEM, other.id, ContractPatch(version=1, plan="Pro"))


def test_it_keeps_the_version_when_a_patch_changes_nothing(session: Session) -> None:
    contract = active(session)
    entries = len(history(session, "contract", contract.id))
    update_contract(session, SYSTEM, contract.id, ContractPatch(version=1))
    assert contract.version == 1
    assert len(history(session, "contract", contract.id)) == entries
