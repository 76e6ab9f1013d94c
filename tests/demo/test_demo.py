from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.accounts.models import Account, Contact
from banso.cli import app
from banso.contracts.models import ContractMovement
from banso.contracts.service import mrr_by_account
from banso.db import make_engine
from banso.deals.models import Deal, LostReason, PipelineStage
from banso.demo.generator import TODAY, generate, plan

runner = CliRunner()


def _digest(session: Session) -> str:
    rows = session.execute(
        select(
            Account.name, Account.name_kana, Account.segment, Account.mrr, Account.lifecycle_stage
        ).order_by(Account.id)
    ).all()
    moves = session.execute(
        select(
            ContractMovement.effective_date, ContractMovement.kind, ContractMovement.mrr_after
        ).order_by(ContractMovement.id)
    ).all()
    text = json.dumps([list(map(str, r)) for r in rows + moves], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_same_seed_plans_the_same_stories() -> None:
    assert plan(7, 50) == plan(7, 50)
    assert plan(7, 50) != plan(8, 50)


def test_it_is_deterministic_in_the_database(session: Session) -> None:
    generate(session, seed=3, n_accounts=40, admin_password="demo-password-1")
    first = _digest(session)
    session.rollback()
    generate(session, seed=3, n_accounts=40, admin_password="demo-password-1")
    assert _digest(session) == first


def test_account_mrr_equals_mrr_rebuilt_from_movements(session: Session) -> None:
    generate(session, seed=11, n_accounts=80, admin_password="demo-password-1")
    rebuilt = mrr_by_account(session, TODAY)
    stored = dict(session.execute(select(Account.id, Account.mrr)).all())
    assert stored == {i: rebuilt.get(i, 0) for i in stored}
    assert sum(rebuilt.values()) > 0


def test_every_customer_has_a_decision_maker_and_two_contacts(session: Session) -> None:
    generate(session, seed=5, n_accounts=60, admin_password="demo-password-1")
    real = select(Account.id).where(Account.segment.is_not(None))
    per_account = dict(
        session.execute(
            select(Contact.account_id, func.count())
            .where(Contact.account_id.in_(real))
            .group_by(Contact.account_id)
        ).all()
    )
    assert len(per_account) == 60 and min(per_account.values()) >= 2
    deciders = session.scalar(
        select(func.count(func.distinct(Contact.account_id))).where(
            Contact.role == "decision_maker"
        )
    )
    assert deciders == 60


def test_movements_follow_the_contract_rules(session: Session) -> None:
    generate(session, seed=9, n_accounts=120, admin_password="demo-password-1")
    moves = session.scalars(
        select(ContractMovement).order_by(
            ContractMovement.contract_id, ContractMovement.effective_date, ContractMovement.id
        )
    ).all()
    previous: dict[int, ContractMovement] = {}
    for m in moves:
        prior = previous.get(m.contract_id)
        if prior is None:
            assert m.kind == "new" and m.mrr_before == 0
        else:
            assert m.effective_date >= prior.effective_date
            assert m.mrr_before == (prior.mrr_after if prior.status_after == "active" else 0)
            if m.kind == "expansion":
                assert m.mrr_after > m.mrr_before
            if m.kind == "contraction" and m.status_after == "active":
                assert 0 < m.mrr_after < m.mrr_before
            if m.kind == "reactivation":
                assert prior.status_after in ("churned", "paused")
        assert m.effective_date <= TODAY
        previous[m.contract_id] = m


def test_lost_and_archived_deals_have_a_reason_of_that_kind(session: Session) -> None:
    generate(session, seed=2, n_accounts=60, admin_password="demo-password-1")
    rows = session.execute(
        select(PipelineStage.outcome, LostReason.kind)
        .select_from(Deal)
        .join(PipelineStage, PipelineStage.key == Deal.stage_key)
        .outerjoin(LostReason, LostReason.key == Deal.lost_reason_key)
    ).all()
    assert {outcome for outcome, _ in rows} >= {"won", "lost", "archived"}
    for outcome, kind in rows:
        if outcome in ("lost", "archived"):
            assert kind == outcome
        else:
            assert kind is None


def test_annual_logo_churn_is_realistic() -> None:
    stories = plan(42, 1500)
    year_ago = date(TODAY.year - 1, TODAY.month, TODAY.day)
    active = [
        s
        for s in stories
        if s.start <= year_ago
        and s.kind != "trial_lost"
        and not (s.churn_date and s.churn_date <= year_ago)
    ]
    churned = [
        s for s in active if s.kind == "churned" and s.churn_date and s.churn_date > year_ago
    ]
    assert 0.08 <= len(churned) / len(active) <= 0.16


# ---------------------------------------------------------------- command line


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BANSO_DATABASE_URL", raising=False)
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    yield tmp_path
    cli_support.settings.cache_clear()


def test_the_command_prints_a_login_that_is_kept(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--accounts", "30", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "admin@banso.example" in result.output
    login = (data_dir / "demo-login.txt").read_text(encoding="utf-8").split()
    assert login[1] in result.output
    again = runner.invoke(app, ["demo", "--if-empty"])
    assert again.exit_code == 0 and "nothing generated" in again.output and login[1] in again.output


def test_it_refuses_to_overwrite_without_reset_and_confirmation(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo", "--accounts", "20"]).exit_code == 0
    refused = runner.invoke(app, ["demo", "--accounts", "20"])
    assert refused.exit_code == 1 and "--reset" in refused.output
    declined = runner.invoke(app, ["demo", "--accounts", "20", "--reset"], input="n\n")
    assert declined.exit_code == 1 and "nothing deleted" in declined.output
    replaced = runner.invoke(app, ["demo", "--accounts", "25", "--reset", "--yes"])
    assert replaced.exit_code == 0, replaced.output
    assert "Created 25 accounts" in replaced.output
