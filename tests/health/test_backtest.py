"""The backtest joins past snapshots to what each account did next, and judges the score."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.contracts.schemas import MovementIn
from banso.contracts.service import record_movement
from banso.errors import InvalidInput
from banso.health.backtest import load_history, report, suggest_weights
from banso.health.service import refresh, save_scorecard
from tests.factories import make_account, make_contract
from tests.health.conftest import put_metric, small_spec

START = date(2026, 1, 5)
TODAY = date(2026, 11, 1)


def _world(session: Session, actor: Actor, n: int = 24) -> list[Account]:
    """Accounts whose active days fall before they churn; half of them churn."""
    accounts = []
    for i in range(n):
        account = make_account(session, name=f"社{i}")
        contract = make_contract(
            session,
            account,
            mrr=10_000 * (1 + i % 5),
            start_date=date(2025, 1, 1),
            end_date=date(2027, 1, 1),
        )
        churns = i % 2 == 0
        for week in range(8):
            day = START + timedelta(weeks=week)
            days = 20 - (week * 2 if churns else 0) - (i % 3)
            put_metric(session, account, "active_days_30d", day, max(days, 0))
        if churns:
            record_movement(
                session,
                actor,
                contract.id,
                MovementIn(kind="churn", effective_date=START + timedelta(weeks=9 + i % 4)),
            )
        accounts.append(account)
    return accounts


def test_it_marks_what_happened_within_the_horizon(session: Session, actor: Actor) -> None:
    card, _ = save_scorecard(session, actor, small_spec())
    account = make_account(session, name="A")
    contract = make_contract(session, account, mrr=10_000, start_date=date(2025, 1, 1))
    churn_on = START + timedelta(days=60)
    record_movement(session, actor, contract.id, MovementIn(kind="churn", effective_date=churn_on))
    for days_before in (90, 59, 30, 1):
        refresh(session, churn_on - timedelta(days=days_before))
    history = load_history(
        session, card, small_spec(), START - timedelta(days=60), TODAY, 60, "churn", TODAY
    )
    by_date = dict(zip(history.dates, history.outcome.tolist(), strict=True))
    assert by_date == {
        churn_on - timedelta(days=90): 0,  # churned 90 days later: outside a 60-day horizon
        churn_on - timedelta(days=59): 1,
        churn_on - timedelta(days=30): 1,
        churn_on - timedelta(days=1): 1,
    }


def test_it_leaves_out_snapshots_whose_horizon_has_not_passed(
    session: Session, actor: Actor
) -> None:
    card, _ = save_scorecard(session, actor, small_spec())
    make_contract(session, make_account(session, name="A"), mrr=1, start_date=date(2025, 1, 1))
    for day in (date(2026, 6, 1), date(2026, 9, 1)):
        refresh(session, day)
    history = load_history(session, card, small_spec(), START, TODAY, 90, "churn", TODAY)
    assert history.dates == [date(2026, 6, 1)]


def test_its_auc_and_bands_agree_with_scikit_learn(session: Session, actor: Actor) -> None:
    card, _ = save_scorecard(session, actor, small_spec())
    _world(session, actor)
    for week in range(8):
        refresh(session, START + timedelta(weeks=week))
    history = load_history(session, card, small_spec(), START, TODAY, 90, "churn", TODAY)
    result = report(history, small_spec(), "churn", 90)
    assert result.snapshots == len(history.dates) > 0
    assert result.auc == pytest.approx(roc_auc_score(history.outcome, -history.scores), abs=1e-12)
    assert result.auc is not None and result.auc > 0.7
    assert sum(g.count for g in result.bands.values()) == result.snapshots
    assert result.deciles[0].rate >= result.deciles[-1].rate
    days = next(m for m in result.measures if m.key == "days")
    assert days.auc is not None and days.auc > 0.7


def test_it_suggests_weights_that_rank_better_on_later_dates(
    session: Session, actor: Actor
) -> None:
    card, _ = save_scorecard(session, actor, small_spec())
    _world(session, actor)
    for week in range(8):
        refresh(session, START + timedelta(weeks=week))
    spec = small_spec()
    history = load_history(session, card, spec, START, TODAY, 90, "churn", TODAY)
    s = suggest_weights(history, spec, "churn", 90)
    # Active days predict the churn here; MRR does not: the model moves the weight to days.
    assert s.proposed["days"] > s.proposed["mrr"]
    assert sum(s.proposed.values()) == pytest.approx(100, abs=0.2)
    assert s.train_dates[1] < s.test_dates[0]
    assert s.proposed_report.auc is not None and s.current_report.auc is not None
    assert s.proposed_report.auc >= s.current_report.auc
    assert np.isfinite([c.mean_predicted for c in s.calibration]).all()


def test_it_refuses_a_bad_request(session: Session, actor: Actor) -> None:
    card, _ = save_scorecard(session, actor, small_spec())
    spec = small_spec()
    with pytest.raises(InvalidInput, match="--outcome"):
        load_history(session, card, spec, START, TODAY, 90, "divorce", TODAY)
    with pytest.raises(InvalidInput, match="--horizon"):
        load_history(session, card, spec, START, TODAY, 0, "churn", TODAY)
    with pytest.raises(InvalidInput, match="before --from"):
        load_history(session, card, spec, TODAY, START, 90, "churn", TODAY)
    empty = load_history(session, card, spec, START, TODAY, 90, "churn", TODAY)
    assert report(empty, spec, "churn", 90).auc is None
    with pytest.raises(InvalidInput, match="two dates"):
        suggest_weights(empty, spec, "churn", 90)


def test_a_measure_without_values_keeps_its_share_of_the_weight() -> None:
    from banso.health.backtest import History, fit_weights

    rng = np.random.default_rng(3)
    n = 400
    y = (rng.random(n) < 0.3).astype(np.int64)
    days = np.where(y == 1, rng.normal(30, 15, n), rng.normal(70, 15, n)).clip(0, 100)
    noise = rng.uniform(0, 100, n)
    points = np.column_stack([days, noise, np.full(n, np.nan)])
    history = History(
        keys=["days", "noise", "rating"],
        account_ids=np.arange(n, dtype=np.int64),
        dates=[date(2026, 1, 1)] * n,
        scores=np.zeros(n),
        bands=[None] * n,
        raw=points,
        points=points,
        outcome=y,
    )
    fitted = fit_weights(
        history, "churn", np.ones(n, dtype=bool), current={"days": 4, "noise": 4, "rating": 2}
    )
    assert fitted.weights["rating"] == 20.0  # 2 of 10: untouched, nothing to judge it by
    assert fitted.weights["days"] > 60 and fitted.weights["days"] + fitted.weights["noise"] == (
        pytest.approx(80, abs=0.1)
    )
    assert "rating" not in fitted.per_point
