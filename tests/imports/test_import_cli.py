"""`banso import`, `banso export` and `banso import-profiles` against a temporary SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.accounts.models import Account
from banso.cli import app
from banso.db import make_engine, make_sessionmaker
from banso.settings import load_settings
from tests.imports.helpers import write_csv

SALESFORCE = [
    ["Account ID", "Account Name", "Website", "Industry"],
    ["001A", "株式会社さくら", "sakura.co.jp", "IT"],
    ["001B", "ひかり商事", "hikari.jp", "小売"],
]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANSO_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    cli_support.settings.cache_clear()
    engine = make_engine(load_settings())
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    cli_support.settings.cache_clear()


def _accounts(url: str) -> list[str]:
    engine = make_engine(load_settings(database_url=url))
    with make_sessionmaker(engine)() as session:
        names = list(session.scalars(select(Account.name).order_by(Account.name)))
    engine.dispose()
    return names


def _count(url: str) -> int:
    engine = make_engine(load_settings(database_url=url))
    with make_sessionmaker(engine)() as session:
        total = session.scalar(select(func.count()).select_from(Account)) or 0
    engine.dispose()
    return total


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_it_dry_runs_then_imports_then_changes_nothing(database: str, tmp_path: Path) -> None:
    path = str(write_csv(tmp_path / "sf.csv", SALESFORCE))
    code, out = invoke("import", "accounts", path, "--preset", "salesforce", "--dry-run")
    assert code == 0, out
    assert "would create" in out and "Dry run — nothing was written" in out
    assert _count(database) == 0
    code, out = invoke("import", "accounts", path, "--preset", "salesforce")
    assert code == 0, out
    assert "2 rows: 2 created, 0 updated, 0 unchanged, 0 rejected" in out
    code, out = invoke("import", "accounts", path, "--preset", "salesforce")
    assert "2 rows: 0 created, 0 updated, 2 unchanged, 0 rejected" in out
    assert _accounts(database) == ["ひかり商事", "株式会社さくら"]


def test_it_fails_whole_and_writes_the_rejects(database: str, tmp_path: Path) -> None:
    rows = [*SALESFORCE, ["001C", "", "bad", ""]]
    path = str(write_csv(tmp_path / "bad.csv", rows))
    rejects = tmp_path / "rejects.csv"
    code, out = invoke(
        "import", "accounts", path, "--preset", "salesforce", "--rejects", str(rejects)
    )
    assert code == 1
    assert "Nothing was imported" in out and "row 4, column 'Website' (domains)" in out
    assert _count(database) == 0
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,errors,Account ID,Account Name,Website,Industry"
    assert lines[1].startswith("4,\"row 4, column 'Website' (domains): 'bad' is not a domain name")
    code, out = invoke("import", "accounts", path, "--preset", "salesforce", "--skip-bad-rows")
    assert code == 0, out
    assert _count(database) == 2


def test_it_reports_a_bad_mapping_without_a_traceback(database: str, tmp_path: Path) -> None:
    path = str(write_csv(tmp_path / "sf.csv", SALESFORCE))
    code, out = invoke("import", "accounts", path, "--map", "Nope=name")
    assert code == 1
    assert "mapping 'Nope'" in out and "Traceback" not in out
    code, out = invoke("import", "planets", path)
    assert code == 1 and "unknown entity 'planets'" in out
    code, out = invoke("import", "accounts", str(tmp_path / "missing.csv"))
    assert code == 1 and "does not exist" in out


def test_it_saves_lists_shows_uses_and_deletes_a_profile(database: str, tmp_path: Path) -> None:
    rows = [["会社ID", "会社名", "業種"], ["K1", "株式会社さくら", "IT"]]
    path = str(write_csv(tmp_path / "in.csv", rows, encoding="cp932"))
    code, out = invoke(
        "import-profiles", "save", "基幹システム", "--entity", "accounts",
        "--map", "会社ID=external_id", "--map", "会社名=name", "--map", "業種=industry",
        "--system", "erp",
    )  # fmt: skip
    assert code == 0, out
    code, out = invoke("import-profiles", "list")
    assert "基幹システム" in out and "erp" in out
    code, out = invoke("import-profiles", "show", "基幹システム")
    assert "会社名" in out and "external_id" in out
    code, out = invoke("import", "accounts", path, "--profile", "基幹システム")
    assert code == 0, out
    assert "1 created" in out
    code, out = invoke(
        "import-profiles", "save", "基幹システム", "--entity", "accounts", "--map", "a=name"
    )
    assert code == 1 and "--replace" in out
    code, out = invoke(
        "import-profiles", "save", "x", "--entity", "accounts", "--map", "a=nickname"
    )
    assert code == 1 and "nickname" in out
    code, out = invoke("import-profiles", "delete", "基幹システム", "--yes")
    assert code == 0, out
    code, out = invoke("import-profiles", "show", "基幹システム")
    assert code == 1 and "does not exist" in out


def test_it_exports_to_xlsx_and_csv_for_a_round_trip(database: str, tmp_path: Path) -> None:
    invoke(
        "import",
        "accounts",
        str(write_csv(tmp_path / "sf.csv", SALESFORCE)),
        "--preset",
        "salesforce",
    )
    xlsx, sjis = tmp_path / "out.xlsx", tmp_path / "out.csv"
    code, out = invoke("export", "accounts", "-o", str(xlsx))
    assert code == 0 and "Exported 2 accounts" in out
    code, out = invoke(
        "export", "accounts", "-o", str(sjis), "--encoding", "cp932", "--industry", "IT"
    )
    assert code == 0, out
    assert "株式会社さくら" in sjis.read_text(encoding="cp932")
    assert "ひかり商事" not in sjis.read_text(encoding="cp932")
    code, out = invoke("import", "accounts", str(xlsx))
    assert code == 0 and "0 created, 0 updated, 2 unchanged" in out
    code, out = invoke("export", "accounts")
    assert code == 0 and out.startswith("\ufeffid,name,")
