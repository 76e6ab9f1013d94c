"""`banso deals` on a real, migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.cli import app
from banso.cli_support import open_session
from banso.contracts.models import Contract
from banso.db import make_engine
from banso.deals.service import get_deal
from tests.deals.factories import make_deal
from tests.factories import make_account


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A migrated SQLite database that every command in the test opens."""
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANSO_DATABASE_URL", f"sqlite:///{tmp_path / 'banso.db'}")
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    # The shared Rich consoles were sized when imported; widen them so no cell is cut.
    monkeypatch.setattr(cli_support.console, "_width", 200)
    monkeypatch.setattr(cli_support.err_console, "_width", 200)
    yield tmp_path
    cli_support.settings.cache_clear()


@pytest.fixture
def deal_ids(data_dir: Path) -> list[int]:
    with open_session() as session:
        ids = [
            make_deal(
                session,
                title="勤怠管理の相談",
                company_name="株式会社ミライ物流",
                source_channel="ウェビナー",
                budget=1_200_000,
                inquiry_date=date(2025, 5, 12),
                problem="請求書の発行に3日",
            ).id,
            make_deal(
                session,
                title="経費精算",
                company_name="さくら商事",
                stage_key="lost",
                lost_reason_key="price",
            ).id,
        ]
    return ids


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_it_lists_filters_and_pages_deals(deal_ids: list[int]) -> None:
    code, out = run("deals", "list")
    assert code == 0, out
    assert "勤怠管理の相談" in out and "¥1,200,000" in out and "lost (price)" in out
    code, out = run("deals", "list", "--outcome", "lost")
    assert "経費精算" in out and "勤怠管理の相談" not in out
    code, out = run("deals", "list", "--q", "ミライ")
    assert "勤怠管理の相談" in out and "経費精算" not in out
    code, out = run("deals", "list", "--limit", "1", "--sort", "id")
    assert "勤怠管理の相談" in out and "経費精算" not in out and "--cursor" in out
    cursor = out.split("--cursor", 1)[1].split()[0]
    code, out = run("deals", "list", "--limit", "1", "--sort", "id", "--cursor", cursor)
    assert code == 0 and "経費精算" in out and "勤怠管理の相談" not in out


def test_it_lists_every_deal_with_all(data_dir: Path) -> None:
    with open_session() as session:
        for i in range(503):  # more than one page of 500
            make_deal(session, title=f"案件{i:03d}", source_channel="紹介")
        make_deal(session, title="別経路", source_channel="Web")
    code, out = run("deals", "list", "--all", "--source", "紹介", "--sort", "title")
    assert code == 0, out
    assert "案件000" in out and "案件502" in out and "別経路" not in out
    assert "503 deals." in out and "--cursor" not in out
    code, out = run("deals", "list", "--all", "--cursor", "abc")
    assert code == 1 and "leave out --cursor" in out


def test_it_shows_a_deal(deal_ids: list[int]) -> None:
    code, out = run("deals", "show", str(deal_ids[0]))
    assert code == 0, out
    assert "Deal" in out and "請求書の発行に3日" in out and "inquiry (open)" in out
    code, out = run("deals", "show", "999999")
    assert code == 1 and "deal 999999 does not exist" in out


def test_it_lists_the_pipeline_and_the_reasons(deal_ids: list[int]) -> None:
    code, out = run("deals", "pipeline")
    assert code == 0, out
    assert out.index("問い合わせ") < out.index("受注") < out.index("失注")
    code, out = run("deals", "lost-reasons")
    assert code == 0 and "価格が合わない" in out and "archived" in out


def test_it_wins_a_deal_from_the_command_line(deal_ids: list[int]) -> None:
    code, out = run(
        "deals", "win", str(deal_ids[0]), "--plan", "Standard", "--mrr", "80000",
        "--start", "2025-07-01", "--seats", "20", "--domain", "mirai-logi.co.jp",
    )  # fmt: skip
    assert code == 0, out
    assert "created account" in out and "¥80,000" in out
    with open_session() as session:
        deal = get_deal(session, deal_ids[0])
        assert deal.stage_key == "won" and deal.contract_id is not None
        contract = session.get(Contract, deal.contract_id)
        assert contract is not None and (contract.mrr, contract.seats) == (80_000, 20)


def test_it_links_an_account_and_reports_bad_input(deal_ids: list[int]) -> None:
    with open_session() as session:
        account_id = make_account(session, name="既存株式会社").id
    base = ["deals", "win", str(deal_ids[0]), "--plan", "Lite", "--start", "2025-07-01"]
    code, out = run(*base, "--mrr", "-5")
    assert code == 1 and "mrr" in out
    code, out = run(*base, "--mrr", "100", "--account", "999999")
    assert code == 1 and "account 999999 does not exist" in out
    code, out = run(*base, "--mrr", "100", "--end", "2025-01-01")
    assert code == 1 and "end_date is before start_date" in out
    code, out = run(*base, "--mrr", "100", "--account", str(account_id))
    assert code == 0 and f"linked to account {account_id}" in out
    code, out = run(*base, "--mrr", "100")
    assert code == 1 and "already won" in out


def test_it_refuses_unknown_filters(deal_ids: list[int]) -> None:
    code, out = run("deals", "list", "--stage", "nope")
    assert code == 1 and "unknown stage 'nope'" in out
