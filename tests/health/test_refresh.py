"""Scoring as of a date: snapshots per account with each measure's part, replaced per date."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.contracts.schemas import MovementIn
from banso.contracts.service import record_movement
from banso.errors import InvalidInput
from banso.health.models import HealthBandChange, HealthSnapshot, ScorecardVersion
from banso.health.service import refresh, save_scorecard, spec_of
from banso.metrics.models import MetricSnapshot
from tests.factories import make_account, make_contract
from tests.health.conftest import put_metric, small_spec

D1, D2, D3 = date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)


def _snapshots(session: Session, as_of: date) -> dict[int, HealthSnapshot]:
    rows = session.scalars(select(HealthSnapshot).where(HealthSnapshot.as_of == as_of))
    return {r.account_id: r for r in rows}


def test_it_scores_accounts_with_an_active_contract(session: Session, actor: Actor) -> None:
    save_scorecard(session, actor, small_spec())
    busy, idle, gone = (make_account(session, name=n) for n in ("Busy", "Idle", "Gone"))
    make_contract(session, busy, mrr=100_000)
    make_contract(session, idle, mrr=20_000)
    put_metric(session, busy, "active_days_30d", D1, 20)
    put_metric(session, gone, "active_days_30d", D1, 20)  # no contract: not scored
    [result] = refresh(session, D1)
    assert (result.accounts, result.scored) == (2, 2)
    found = _snapshots(session, D1)
    assert set(found) == {busy.id, idle.id}
    assert found[busy.id].score == pytest.approx(100.0) and found[busy.id].band == "green"
    # Idle has no active-days value: its MRR (20 points) is the whole score, and it says so.
    idle_snapshot = found[idle.id]
    assert idle_snapshot.score == pytest.approx(20.0) and idle_snapshot.band == "red"
    assert idle_snapshot.measures["days"] == {
        "raw": None,
        "points": None,
        "weight": 0.0,
        "contribution": 0.0,
    }
    assert idle_snapshot.measures["mrr"]["weight"] == 1.0
    assert idle_snapshot.measures["mrr"]["raw"] == 20_000


def test_it_reads_the_newest_metric_within_its_age_limit(session: Session, actor: Actor) -> None:
    save_scorecard(session, actor, small_spec())
    account = make_account(session, name="A")
    make_contract(session, account, mrr=0)
    put_metric(session, account, "active_days_30d", date(2025, 12, 1), 2)  # too old
    put_metric(session, account, "active_days_30d", date(2026, 1, 1), 10)
    put_metric(session, account, "active_days_30d", date(2026, 1, 9), 20)  # after D1
    refresh(session, D1)
    assert _snapshots(session, D1)[account.id].measures["days"]["raw"] == 10


def test_refreshing_a_date_again_replaces_that_date_only(session: Session, actor: Actor) -> None:
    save_scorecard(session, actor, small_spec())
    account = make_account(session, name="A")
    make_contract(session, account, mrr=0)
    for day in (D1, D2):
        put_metric(session, account, "active_days_30d", day, 20)
        refresh(session, day)
    kept = _snapshots(session, D2)[account.id]
    kept_id, kept_at = kept.id, kept.computed_at
    # Mark D2's row: if the recompute of D1 touched it, the mark would be gone.
    session.execute(update(HealthSnapshot).where(HealthSnapshot.as_of == D2).values(score=1.0))
    assert _snapshots(session, D1)[account.id].score == pytest.approx(75.0)
    refresh(session, D1)
    session.expire_all()
    again = _snapshots(session, D2)[account.id]
    assert (again.id, again.computed_at, again.score) == (kept_id, kept_at, 1.0)
    assert len(_snapshots(session, D1)) == 1


def test_it_records_band_changes_and_keeps_them_true_after_a_recompute(
    session: Session, actor: Actor
) -> None:
    card, _ = save_scorecard(session, actor, small_spec())
    account = make_account(session, name="A")
    make_contract(session, account, mrr=0)
    put_metric(session, account, "active_days_30d", D1, 20)  # green
    put_metric(session, account, "active_days_30d", D2, 2)  # red
    put_metric(session, account, "active_days_30d", D3, 2)
    for day in (D1, D2, D3):
        refresh(session, day)
    changes = session.scalars(select(HealthBandChange)).all()
    assert [(c.as_of, c.previous_as_of, c.from_band, c.to_band) for c in changes] == [
        (D2, D1, "green", "red")
    ]
    # The first date turns out red as well: no change on D2 any more.
    _set_metric(session, D1, 1.0)
    refresh(session, D1)
    assert session.scalars(select(HealthBandChange)).all() == []
    assert card.key == "adoption"


def _set_metric(session: Session, day: date, value: float) -> None:
    session.execute(update(MetricSnapshot).where(MetricSnapshot.as_of == day).values(value=value))


def test_an_account_that_churned_is_no_longer_scored(session: Session, actor: Actor) -> None:
    save_scorecard(session, actor, small_spec())
    account = make_account(session, name="A")
    contract = make_contract(session, account, mrr=10_000)
    record_movement(session, actor, contract.id, MovementIn(kind="churn", effective_date=D2))
    refresh(session, D1)
    refresh(session, D3)
    assert account.id in _snapshots(session, D1)
    assert account.id not in _snapshots(session, D3)


def test_it_keeps_versions_and_one_primary(session: Session, actor: Actor) -> None:
    first, changed = save_scorecard(session, actor, small_spec(primary=True))
    assert changed and first.current_version == 1 and first.is_primary
    _, changed = save_scorecard(session, actor, small_spec(primary=True))
    assert not changed
    spec = small_spec(primary=True).with_weights({"days": 5})
    card, changed = save_scorecard(session, actor, spec, note="more on usage")
    assert changed and card.current_version == 2
    assert spec_of(session, card, 1).measures[0].weight == 3
    assert spec_of(session, card).measures[0].weight == 5
    notes = session.scalars(select(ScorecardVersion.note).order_by(ScorecardVersion.number))
    assert list(notes) == ["", "more on usage"]
    other, _ = save_scorecard(session, actor, small_spec(key="relationship", primary=True))
    session.refresh(card)
    assert other.is_primary and not card.is_primary


def test_it_refuses_a_scorecard_on_an_unknown_metric_or_segment(
    session: Session, actor: Actor
) -> None:
    spec = small_spec()
    data = spec.model_dump(mode="json")
    data["categories"][0]["measures"][0]["metric"] = "no_such_metric"
    from banso.health.definitions import parse_spec

    with pytest.raises(InvalidInput, match="no_such_metric"):
        save_scorecard(session, actor, parse_spec(data))
    with pytest.raises(InvalidInput, match="no segment named"):
        save_scorecard(session, actor, small_spec(applies_to={"segment": "Nowhere"}))
    assert session.scalars(select(ScorecardVersion)).all() == []


def test_metric_values_handed_on_score_as_the_stored_ones(session: Session, actor: Actor) -> None:
    import pyarrow as pa

    from banso.health.service import compute

    save_scorecard(session, actor, small_spec())
    accounts = [make_account(session, name=f"A{i}") for i in range(4)]
    for i, account in enumerate(accounts):
        make_contract(session, account, mrr=10_000 * i)
        if i:
            put_metric(session, account, "active_days_30d", D1, 5.0 * i)
    handed = pa.table(
        {
            "account_id": pa.array([a.id for a in accounts[1:]][::-1], pa.int64()),
            "metric_key": ["active_days_30d"] * 3,
            "value": [15.0, 10.0, 5.0],
        }
    )
    stored = compute(session, small_spec(), D1)
    given = compute(session, small_spec(), D1, metrics=handed)
    assert stored.account_ids == given.account_ids
    assert np.allclose(stored.raw, given.raw, equal_nan=True)
    assert stored.bands == given.bands
