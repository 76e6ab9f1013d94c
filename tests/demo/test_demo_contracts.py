from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.schemas import ContractIn, MovementIn
from banso.contracts.service import create_contract, mrr_by_account, mrr_on, record_movement
from banso.demo.generator import DemoResult, generate, stories_by_account
from banso.demo.story import DEFAULT_TODAY, AccountStory, plan
from tests.factories import make_account

from .conftest import PASSWORD

REPLAY = Actor(label="replay")
_COMPARED = (
    "effective_date",
    "kind",
    "mrr_before",
    "mrr_after",
    "seats_before",
    "seats_after",
    "status_after",
    "plan_after",
)


def _rows(session: Session, contract_id: int) -> list[tuple[object, ...]]:
    moves = session.scalars(
        select(ContractMovement)
        .where(ContractMovement.contract_id == contract_id)
        .order_by(ContractMovement.effective_date, ContractMovement.id)
    )
    return [tuple(getattr(m, name) for name in _COMPARED) for m in moves]


def _replay(session: Session, story: AccountStory, plan_name: str, trial_mrr: int) -> Contract:
    """Record the story through the contracts service, as a user would have."""
    account = make_account(session, name=f"再生 {story.index}")
    first, *rest = story.movements
    contract = create_contract(
        session,
        REPLAY,
        ContractIn(
            account_id=account.id,
            plan=plan_name,
            mrr=trial_mrr if first.status_after == "trial" else first.mrr_after,
            seats=first.seats_after,
            start_date=first.on,
            end_date=first.end_date,
            status="trial" if first.status_after == "trial" else "active",
        ),
    )
    for m in rest:
        pause = m.status_after == "paused"
        record_movement(
            session,
            REPLAY,
            contract.id,
            MovementIn(
                kind=m.kind,
                effective_date=m.on,
                mrr=None if m.kind == "churn" or pause else m.mrr_after,
                seats=m.seats_after,
                end_date=m.end_date,
                pause=pause,
                reason=m.reason,
            ),
        )
    return contract


def test_contracts_replay_through_the_contracts_service(session: Session, demo: DemoResult) -> None:
    stories = stories_by_account(session)
    generated = {c.account_id: c for c in session.scalars(select(Contract))}
    assert set(stories) == set(generated)
    for account_id, story in stories.items():
        mine = generated[account_id]
        trial_mrr = mine.mrr if mine.status == "trial" else 0
        replayed = _replay(session, story, mine.plan, trial_mrr)
        session.flush()
        assert _rows(session, replayed.id) == _rows(session, mine.id), story
        state = ("mrr", "status", "seats", "plan", "start_date", "end_date")
        assert [getattr(replayed, n) for n in state] == [getattr(mine, n) for n in state]
        mrr = dict(
            session.execute(
                select(Account.id, Account.mrr).where(
                    Account.id.in_([account_id, replayed.account_id])
                )
            ).all()
        )
        assert mrr[replayed.account_id] == mrr[account_id]


def test_account_mrr_equals_mrr_rebuilt_from_movements(session: Session, demo: DemoResult) -> None:
    rebuilt = mrr_by_account(session, DEFAULT_TODAY)
    stored = dict(session.execute(select(Account.id, Account.mrr)).all())
    assert stored == {i: rebuilt.get(i, 0) for i in stored}
    active = dict(
        session.execute(
            select(Contract.account_id, Contract.mrr).where(Contract.status == "active")
        ).all()
    )
    assert stored == {i: active.get(i, 0) for i in stored}
    assert mrr_on(session, DEFAULT_TODAY) == sum(stored.values()) > 0


def test_mrr_is_in_yen_and_plausible_per_segment(session: Session, demo: DemoResult) -> None:
    bounds = {
        "SMB": (10_000, 200_000),
        "Mid-Market": (40_000, 1_200_000),
        "Enterprise": (200_000, 6_000_000),
    }
    rows = session.execute(select(Account.segment, Account.mrr).where(Account.mrr > 0)).all()
    assert rows
    for segment, mrr in rows:
        low, high = bounds[str(segment)]
        assert low <= mrr <= high and mrr % 1_000 == 0


def test_it_writes_three_years_of_every_kind_of_movement(session: Session) -> None:
    generate(session, seed=9, n_accounts=150, admin_password=PASSWORD)
    rows = session.execute(select(ContractMovement.kind, ContractMovement.effective_date)).all()
    assert {kind for kind, _ in rows} == {
        "new",
        "expansion",
        "contraction",
        "renewal",
        "churn",
        "reactivation",
    }
    days = [day for _, day in rows]
    assert min(days) >= date(2023, 12, 1) and max(days) <= DEFAULT_TODAY
    assert min(days) < date(2024, 1, 1) and max(days) > date(2026, 10, 1)


def _logo_churn(session: Session, start: date, end: date) -> float:
    """Share of the accounts paying on ``start`` that churned by ``end``, from the movements."""
    moves = session.execute(
        select(
            ContractMovement.account_id,
            ContractMovement.effective_date,
            ContractMovement.kind,
            ContractMovement.status_after,
        ).order_by(ContractMovement.effective_date, ContractMovement.id)
    ).all()
    status: dict[int, str] = {}
    for account_id, day, _kind, after in moves:
        if day <= start:
            status[account_id] = after
    paying = {a for a, s in status.items() if s == "active"}
    churned = {a for a, day, kind, _ in moves if kind == "churn" and start < day <= end}
    return len(paying & churned) / len(paying)


def test_annual_logo_churn_is_realistic(session: Session) -> None:
    generate(session, seed=42, n_accounts=400, admin_password=PASSWORD)
    year_ago = date(DEFAULT_TODAY.year - 1, DEFAULT_TODAY.month, DEFAULT_TODAY.day)
    assert 0.08 <= _logo_churn(session, year_ago, DEFAULT_TODAY) <= 0.15


def test_small_customers_churn_more_than_large_ones() -> None:
    stories = plan(42, 3000)
    rates = {}
    for segment in ("SMB", "Mid-Market", "Enterprise"):
        mine = [s for s in stories if s.segment == segment and s.live_from]
        rates[segment] = sum(s.kind == "churned" for s in mine) / len(mine)
    assert rates["SMB"] > rates["Mid-Market"] > rates["Enterprise"] > 0
