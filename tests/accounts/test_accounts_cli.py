from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.accounts.schemas import AccountIn, ContactIn
from banso.accounts.service import create_account, create_contact
from banso.audit.service import CLI
from banso.cli import app
from banso.db import make_engine

runner = CliRunner()


@pytest.fixture
def ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, int]]:
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BANSO_DATABASE_URL", raising=False)
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    with cli_support.open_session() as session:
        a = create_account(session, CLI, AccountIn(name="株式会社ＡＢＣ", segment="SMB"))
        b = create_account(session, CLI, AccountIn(name="(株)abc"))
        create_contact(
            session, CLI, ContactIn(account_id=b.id, name="佐藤 花子", role="decision_maker")
        )
        pair = (a.id, b.id)
    yield pair
    cli_support.settings.cache_clear()


def test_it_lists_and_shows_accounts(ids: tuple[int, int]) -> None:
    listed = runner.invoke(app, ["accounts", "list", "--segment", "SMB"])
    assert listed.exit_code == 0 and "ＡＢＣ" in listed.output and "(株)abc" not in listed.output
    shown = runner.invoke(app, ["accounts", "show", str(ids[1])])
    assert shown.exit_code == 0 and "佐藤 花子" in shown.output
    missing = runner.invoke(app, ["accounts", "show", "999"])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_it_lists_duplicates_and_merges_after_confirmation(ids: tuple[int, int]) -> None:
    target, source = ids
    listed = runner.invoke(app, ["duplicates"])
    assert listed.exit_code == 0 and "same_name" in listed.output
    declined = runner.invoke(app, ["merge", str(source), str(target)], input="n\n")
    assert declined.exit_code == 1 and "moves 1 contacts" in declined.output
    done = runner.invoke(app, ["merge", str(source), str(target), "--yes"])
    assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["accounts", "show", str(source)]).exit_code == 1
    wrong = runner.invoke(app, ["duplicates", "people"])
    assert wrong.exit_code == 1
