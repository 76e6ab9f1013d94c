from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, func, select
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.accounts.models import Account
from banso.cli import app
from banso.contracts.models import ContractMovement
from banso.db import make_engine

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite database in a data directory of its own, as `banso init` leaves it."""
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BANSO_DATABASE_URL", raising=False)
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    yield tmp_path
    cli_support.settings.cache_clear()


def _scalars(query: Select[Any]) -> list[Any]:
    engine = make_engine(cli_support.settings())
    try:
        with engine.connect() as conn:
            return list(conn.scalars(query))
    finally:
        engine.dispose()


def _accounts() -> list[str]:
    return _scalars(select(Account.name).order_by(Account.id))


def _login(data_dir: Path) -> tuple[str, str]:
    email, password, _token = (data_dir / "demo-login.txt").read_text(encoding="utf-8").split()
    return email, password


def test_it_prints_an_api_token_that_works(data_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from banso.app import create_app

    result = runner.invoke(app, ["demo", "--accounts", "20", "--seed", "4"])
    assert result.exit_code == 0, result.output
    token = (data_dir / "demo-login.txt").read_text(encoding="utf-8").split()[2]
    assert token in result.output
    web = create_app(cli_support.settings())
    with TestClient(web) as client:
        listed = client.get(
            "/api/v1/accounts?limit=3", headers={"Authorization": f"Bearer {token}"}
        )
    web.state.engine.dispose()
    assert listed.status_code == 200 and len(listed.json()["items"]) == 3


def test_it_prints_the_url_and_a_login_that_is_kept(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--accounts", "30", "--seed", "1"])
    assert result.exit_code == 0, result.output
    email, password = _login(data_dir)
    assert email == "admin@banso.example" and len(password) >= 12
    assert "http://127.0.0.1:8000" in result.output
    assert email in result.output and password in result.output
    assert "Created 30 accounts" in result.output
    mode = (data_dir / "demo-login.txt").stat().st_mode
    assert not mode & (stat.S_IRWXG | stat.S_IRWXO)


def test_if_empty_generates_nothing_on_a_database_with_accounts(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo", "--accounts", "20"]).exit_code == 0
    before, login = _accounts(), _login(data_dir)
    again = runner.invoke(app, ["demo", "--if-empty", "--accounts", "40", "--seed", "9"])
    assert again.exit_code == 0, again.output
    assert "nothing generated" in again.output and login[1] in again.output
    assert _accounts() == before and _login(data_dir) == login


def test_if_empty_generates_on_an_empty_database(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--if-empty", "--accounts", "15"])
    assert result.exit_code == 0, result.output
    assert _scalars(select(func.count()).where(Account.segment.is_not(None))) == [15]


def test_it_refuses_to_overwrite_without_reset(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo", "--accounts", "20"]).exit_code == 0
    before = _accounts()
    refused = runner.invoke(app, ["demo", "--accounts", "20"])
    assert refused.exit_code == 1 and "--reset" in refused.output
    assert _accounts() == before


def test_reset_asks_before_deleting(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo", "--accounts", "20", "--seed", "1"]).exit_code == 0
    before, login = _accounts(), _login(data_dir)
    declined = runner.invoke(app, ["demo", "--accounts", "25", "--reset"], input="n\n")
    assert declined.exit_code == 1 and "nothing deleted" in declined.output
    assert _accounts() == before and _login(data_dir) == login
    confirmed = runner.invoke(app, ["demo", "--accounts", "25", "--reset"], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "Created 25 accounts" in confirmed.output and _accounts() != before
    assert _login(data_dir) != login


def test_reset_with_yes_replaces_everything_without_asking(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo", "--accounts", "20", "--seed", "2"]).exit_code == 0
    replaced = runner.invoke(app, ["demo", "--accounts", "20", "--seed", "2", "--reset", "--yes"])
    assert replaced.exit_code == 0, replaced.output
    assert "Delete all" not in replaced.output and "Created 20 accounts" in replaced.output
    assert _scalars(select(func.count()).select_from(Account)) == [20 + 1]  # one old-CRM copy


def test_the_same_seed_gives_the_same_customers_from_the_command(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo", "--accounts", "20", "--seed", "3"]).exit_code == 0
    first = _accounts()
    again = runner.invoke(app, ["demo", "--accounts", "20", "--seed", "3", "--reset", "--yes"])
    assert again.exit_code == 0 and _accounts() == first


def test_a_later_end_date_moves_the_history(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--accounts", "40", "--today", "2027-06-30"])
    assert result.exit_code == 0, result.output
    days = _scalars(select(ContractMovement.effective_date))
    assert date(2024, 7, 1) <= min(days) and date(2026, 11, 22) < max(days) <= date(2027, 6, 30)


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--accounts", "5"], "--accounts"),
        (["--accounts", "many"], "--accounts"),
        (["--accounts", "9999999"], "--accounts"),
        (["--seed", "-1"], "--seed"),
        (["--seed", "1; DROP TABLE accounts"], "--seed"),
        (["--today", "22.11.2026"], "--today"),
        (["--today", "<script>alert(1)</script>"], "--today"),
        (["--today", "2026-13-01"], "--today"),
    ],
)
def test_it_refuses_bad_options_and_names_them(
    data_dir: Path, args: list[str], complaint: str
) -> None:
    result = runner.invoke(app, ["demo", *args])
    assert result.exit_code == 2
    assert complaint in result.output
    assert _accounts() == []
