"""`banso contracts`, `banso mrr` and `banso billing export` on a real SQLite database."""

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
from banso.contracts.service import get_contract, movements_of
from banso.db import make_engine
from tests.factories import make_account, make_contract


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
def contract_id(data_dir: Path) -> int:
    with open_session() as session:
        account = make_account(session, name="㈱髙島ファーム", external_ids={"accounting": "T-1"})
        contract = make_contract(
            session, account, mrr=50_000, start_date=date(2025, 4, 1), external_ids={"crm": "C-9"}
        )
        other = make_account(session, name="さくら株式会社")
        make_contract(session, other, plan="Lite", mrr=20_000, start_date=date(2025, 6, 1))
        return contract.id


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.output


def contract(contract_id: int) -> Contract:
    with open_session() as session:
        return get_contract(session, contract_id)


def test_it_lists_and_shows_contracts_with_their_history(contract_id: int) -> None:
    code, out = run("contracts", "list")
    assert code == 0, out
    assert "㈱髙島ファーム" in out and "¥50,000" in out and "¥20,000" in out
    code, out = run("contracts", "list", "--plan", "Lite")
    assert "¥20,000" in out and "¥50,000" not in out
    run("contracts", "move", str(contract_id), "--kind", "expansion", "--mrr", "80000",
        "--date", "2025-09-01", "--reason", "席数追加")  # fmt: skip
    code, out = run("contracts", "show", str(contract_id))
    assert code == 0, out
    assert "Contract" in out and "crm=C-9" in out
    assert "expansion" in out and "+¥30,000" in out and "席数追加" in out
    assert out.index("2025-04-01") < out.index("2025-09-01")


def test_it_records_a_movement_and_rebuilds_mrr(contract_id: int) -> None:
    code, out = run(
        "contracts", "move", str(contract_id), "--kind", "expansion", "--mrr", "80000",
        "--date", "2026-04-01", "--reason", "上位プランへ",
    )  # fmt: skip
    assert code == 0, out
    assert "¥50,000 → ¥80,000" in out
    saved = contract(contract_id)
    assert (saved.mrr, saved.version) == (80_000, 2)
    with open_session() as session:
        last = movements_of(session, contract_id)[-1]
        assert (last.kind, last.reason, last.actor) == ("expansion", "上位プランへ", "cli")
    assert "¥70,000" in run("mrr", "--as-of", "2026-03-31")[1]
    assert "¥100,000" in run("mrr", "--as-of", "2026-04-01")[1]
    account_id = saved.account_id
    code, out = run("mrr", "--as-of", "2026-04-01", "--account", str(account_id))
    assert "¥80,000" in out and "㈱髙島ファーム" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "expansion", "--mrr", "40000", "--date", "2025-09-01"], "must raise MRR"),
        (["--kind", "expansion", "--mrr", "90000", "--date", "2025-01-01"], "latest is on"),
        (["--kind", "expansion", "--mrr", "80000.5", "--date", "2025-09-01"], "valid integer"),
        (["--kind", "upsell", "--date", "2025-09-01"], "kind"),
        (["--kind", "churn", "--date", "2025-13-01"], "--date"),
        (["--kind", "churn", "--date", "2025-09-01", "--reason", "a\x00b"], "NUL"),
    ],
)
def test_it_refuses_a_bad_movement_and_changes_nothing(
    contract_id: int, args: list[str], message: str
) -> None:
    code, out = run("contracts", "move", str(contract_id), *args)
    assert code != 0
    assert message in out
    assert "Traceback" not in out
    assert contract(contract_id).version == 1


def test_it_says_an_unknown_contract_does_not_exist(contract_id: int) -> None:
    code, out = run("contracts", "show", "424242")
    assert code == 1 and "contract 424242 does not exist" in out
    code, out = run("contracts", "move", "424242", "--kind", "churn")
    assert code == 1 and "contract 424242 does not exist" in out
    code, out = run("mrr", "--account", "424242")
    assert code == 1 and "account 424242 does not exist" in out


def test_it_exports_billing_in_utf8_and_cp932(contract_id: int, data_dir: Path) -> None:
    target = data_dir / "nov.csv"
    code, out = run("billing", "export", "--month", "2025-11", "-o", str(target))
    assert code == 0, out
    assert "Wrote 2 contracts" in out
    content = target.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    assert "㈱髙島ファーム" in content.decode("utf-8-sig")
    code, out = run("billing", "export", "--month", "2025-11", "-o", str(target), "--encoding",
                    "cp932")  # fmt: skip
    assert code == 1 and "exists. Overwrite it?" in out
    assert target.read_bytes() == content
    code, out = run(
        "billing", "export", "--month", "2025-11", "-o", str(target), "--encoding", "cp932",
        "--yes",
    )  # fmt: skip
    assert code == 0, out
    assert "㈱髙島ファーム".encode("cp932") in target.read_bytes()
    code, out = run("billing", "export", "--month", "2025-11", "-o", "-")
    assert code == 0 and out.startswith("\ufeffbilling_month,")


def test_it_refuses_a_cp932_export_it_cannot_encode(contract_id: int, data_dir: Path) -> None:
    with open_session() as session:
        make_contract(session, make_account(session, name="🍣寿司株式会社"), mrr=1_000)
    target = data_dir / "out.csv"
    code, out = run(
        "billing", "export", "--month", "2025-11", "--encoding", "cp932", "-o", str(target)
    )
    assert code == 1
    assert "row 3" in out and "U+1F363" in out
    assert not target.exists()
    code, out = run("billing", "export", "--month", "2025-11", "--encoding", "latin-1")
    assert code == 1 and "encoding" in out
    code, out = run("billing", "export", "--month", "November")
    assert code == 2 and "--month" in out
