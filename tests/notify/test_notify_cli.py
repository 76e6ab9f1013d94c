"""`banso tasks remind` then `banso notify deliver` / `list` on a real, migrated SQLite database,
through a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.audit.service import Actor
from banso.auth.service import UserIn, create_user
from banso.cli import app
from banso.cli_support import open_session
from banso.db import make_engine
from tests.notify.conftest import Inbox
from tests.tasks.factories import make_task


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANSO_DATABASE_URL", f"sqlite:///{tmp_path / 'banso.db'}")
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    monkeypatch.setattr(cli_support.console, "_width", 200)
    monkeypatch.setattr(cli_support.err_console, "_width", 200)
    yield tmp_path
    cli_support.settings.cache_clear()


def test_it_reminds_then_delivers_once(
    data_dir: Path, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = inbox
    with open_session() as session:
        system = Actor(label="test")
        user = create_user(
            session, system, UserIn(email="bob@example.com", name="ボブ", role="csm")
        )
        session.flush()
        make_task(
            session, system, title="更新の連絡", assignee_id=user.id, due_date=date(2026, 11, 19)
        )
    runner = CliRunner()
    first = runner.invoke(app, ["tasks", "remind", "--as-of", "2026-11-20"])
    assert first.exit_code == 0, first.output
    assert "queued 1 reminder mails covering 1 tasks" in first.output
    again = runner.invoke(app, ["tasks", "remind", "--as-of", "2026-11-20"])
    assert "queued 0 reminder mails" in again.output
    listed = runner.invoke(app, ["notify", "list"])
    assert (
        listed.exit_code == 0
        and "bob@example.com" in listed.output
        and "pending: 1" in listed.output
    )
    unset = runner.invoke(app, ["notify", "deliver"])
    assert unset.exit_code == 1 and "BANSO_SMTP_HOST" in unset.output
    monkeypatch.setenv("BANSO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BANSO_SMTP_PORT", str(port))
    monkeypatch.setenv("BANSO_SMTP_STARTTLS", "false")
    cli_support.settings.cache_clear()
    sent = runner.invoke(app, ["notify", "deliver"])
    assert sent.exit_code == 0, sent.output
    assert "Delivered 1 sent" in sent.output
    assert runner.invoke(app, ["notify", "deliver"]).output.startswith("Delivered 0 sent")
    assert len(handler.received) == 1
    assert "更新の連絡" in handler.received[0][2].get_content()
