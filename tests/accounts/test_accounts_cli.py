from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.accounts.models import Account, AccountMerge
from banso.accounts.schemas import AccountIn, ContactIn
from banso.accounts.service import create_account, create_contact
from banso.audit.service import CLI
from banso.cli import app
from banso.contracts.schemas import ContractIn
from banso.contracts.service import create_contract
from banso.db import make_engine

runner = CliRunner()


@dataclass
class Ids:
    target: int
    source: int
    contact: int
    other_contact: int


@pytest.fixture
def ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ids]:
    """A migrated SQLite database in a temporary data directory, with two duplicates."""
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANSO_DATABASE_URL", f"sqlite:///{tmp_path / 'banso.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    with cli_support.open_session() as session:
        a = create_account(
            session, CLI, AccountIn(name="株式会社ＡＢＣ", segment="SMB", domains=["abc.co.jp"])
        )
        b = create_account(session, CLI, AccountIn(name="(株)abc", segment="Enterprise"))
        create_account(session, CLI, AccountIn(name="[bold]タグ[/bold]商事", segment="SMB"))
        c1 = create_contact(
            session,
            CLI,
            ContactIn(account_id=b.id, name="佐藤 花子", role="decision_maker", email="h@abc.jp"),
        )
        c2 = create_contact(session, CLI, ContactIn(account_id=b.id, name="佐藤花子"))
        create_contract(
            session,
            CLI,
            ContractIn(account_id=b.id, plan="Standard", mrr=30_000, start_date=date(2025, 1, 1)),
        )
        made = Ids(a.id, b.id, c1.id, c2.id)
    yield made
    cli_support.settings.cache_clear()


def test_it_lists_accounts_with_filters_and_pages(ids: Ids) -> None:
    listed = runner.invoke(app, ["accounts", "list", "--segment", "SMB"])
    assert listed.exit_code == 0, listed.output
    assert "株式会社ＡＢＣ" in listed.output and "(株)abc" not in listed.output
    assert "[bold]タグ[/bold]商事" in listed.output  # names print as typed, never as markup
    first = runner.invoke(app, ["accounts", "list", "--limit", "1", "--sort", "-mrr"])
    assert first.exit_code == 0 and "(株)abc" in first.output and "--cursor" in first.output
    cursor = first.output.split("--cursor", 1)[1].split()[0]
    second = runner.invoke(
        app, ["accounts", "list", "--limit", "1", "--sort", "-mrr", "--cursor", cursor]
    )
    assert second.exit_code == 0 and "(株)abc" not in second.output
    by_domain = runner.invoke(app, ["accounts", "list", "--domain", "https://abc.co.jp/"])
    assert "株式会社ＡＢＣ" in by_domain.output and "(株)abc" not in by_domain.output
    nothing = runner.invoke(app, ["accounts", "list", "--q", "存在しない"])
    assert nothing.exit_code == 0 and "No accounts match" in nothing.output


def test_it_refuses_bad_list_options(ids: Ids) -> None:
    bad_sort = runner.invoke(app, ["accounts", "list", "--sort", "shoe_size"])
    assert bad_sort.exit_code == 1 and "sort" in bad_sort.output
    bad_cursor = runner.invoke(app, ["accounts", "list", "--cursor", "nonsense"])
    assert bad_cursor.exit_code == 1 and "cursor" in bad_cursor.output
    bad_limit = runner.invoke(app, ["accounts", "list", "--limit", "0"])
    assert bad_limit.exit_code == 2


def test_it_shows_an_account_with_its_contacts(ids: Ids) -> None:
    shown = runner.invoke(app, ["accounts", "show", str(ids.source)])
    assert shown.exit_code == 0, shown.output
    assert "佐藤 花子" in shown.output and "decision_maker" in shown.output
    assert "MRR: ¥30,000" in shown.output
    missing = runner.invoke(app, ["accounts", "show", "999"])
    assert missing.exit_code == 1 and "account 999 does not exist" in missing.output
    not_a_number = runner.invoke(app, ["accounts", "show", "abc"])
    assert not_a_number.exit_code == 2


def test_it_lists_duplicates_with_reasons(ids: Ids) -> None:
    listed = runner.invoke(app, ["duplicates"])
    assert listed.exit_code == 0, listed.output
    assert "same_name" in listed.output and "(株)abc" in listed.output
    people = runner.invoke(app, ["duplicates", "contacts"])
    assert people.exit_code == 0 and "same_name_in_account" in people.output
    assert "--contacts" in people.output
    wrong = runner.invoke(app, ["duplicates", "people"])
    assert wrong.exit_code == 1 and "accounts" in wrong.output
    bad_cursor = runner.invoke(app, ["duplicates", "--cursor", "x"])
    assert bad_cursor.exit_code == 1 and "cursor" in bad_cursor.output


def test_it_merges_after_showing_the_preview_and_asking(ids: Ids) -> None:
    declined = runner.invoke(app, ["merge", str(ids.source), str(ids.target)], input="n\n")
    assert declined.exit_code == 1
    assert "moves 1 contracts" in declined.output and "moves 2 contacts" in declined.output
    assert "keeps segment = 'SMB'" in declined.output and "'Enterprise'" in declined.output
    assert "nothing merged" in declined.output
    assert runner.invoke(app, ["accounts", "show", str(ids.source)]).exit_code == 0

    accepted = runner.invoke(app, ["merge", str(ids.source), str(ids.target)], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"Merged {ids.source} into {ids.target}" in accepted.output
    gone = runner.invoke(app, ["accounts", "show", str(ids.source)])
    assert gone.exit_code == 1 and f"merged into account {ids.target}" in gone.output
    shown = runner.invoke(app, ["accounts", "show", str(ids.target)])
    assert "佐藤 花子" in shown.output and "MRR: ¥30,000" in shown.output
    with cli_support.open_session() as session:
        row = session.scalar(select(AccountMerge))
        assert row is not None and row.source_snapshot["segment"] == "Enterprise"


def test_it_merges_contacts_with_yes(ids: Ids) -> None:
    done = runner.invoke(
        app, ["merge", str(ids.other_contact), str(ids.contact), "--contacts", "--yes"]
    )
    assert done.exit_code == 0, done.output
    assert "Merge contact" in done.output
    again = runner.invoke(app, ["merge", str(ids.other_contact), str(ids.contact), "--contacts"])
    assert again.exit_code == 1 and "does not exist" in again.output


def test_it_refuses_bad_merges(ids: Ids) -> None:
    itself = runner.invoke(app, ["merge", str(ids.target), str(ids.target), "--yes"])
    assert itself.exit_code == 1 and "itself" in itself.output
    unknown = runner.invoke(app, ["merge", "999", str(ids.target), "--yes"])
    assert unknown.exit_code == 1 and "account 999 does not exist" in unknown.output
    not_a_number = runner.invoke(app, ["merge", "x", "1"])
    assert not_a_number.exit_code == 2


def test_rekey_recomputes_normalised_names(ids: Ids) -> None:
    with cli_support.open_session() as session:
        session.get(Account, ids.source).name_key = "stale"  # type: ignore[union-attr]
    done = runner.invoke(app, ["accounts", "rekey"])
    assert done.exit_code == 0 and "1 normalised names updated" in done.output
    with cli_support.open_session() as session:
        assert session.get(Account, ids.source).name_key == "abc"  # type: ignore[union-attr]
