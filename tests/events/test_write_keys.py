"""Write keys: created by an admin, stored hashed, listed, revoked (`banso events write-keys`)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.cli import app
from banso.db import make_engine
from banso.errors import InvalidInput, PermissionDenied
from banso.events.models import WriteKey
from banso.events.writekeys import check_write_key, create_write_key, revoke_write_key
from banso.settings import load_settings
from tests.conftest import Person


def test_it_stores_only_the_hash_of_a_key(session: Session, alice: Person) -> None:
    key, plain = create_write_key(session, alice.actor, "web")
    assert plain.startswith("bwk_") and len(plain) > 30
    assert key.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in (key.prefix, key.key_hash)
    assert check_write_key(session, plain) is not None
    revoke_write_key(session, alice.actor, key.id)
    assert check_write_key(session, plain) is None


def test_it_lets_only_an_admin_manage_keys(session: Session, bob: Person, alice: Person) -> None:
    with pytest.raises(PermissionDenied):
        create_write_key(session, bob.actor, "web")
    key, _ = create_write_key(session, alice.actor, "web")
    with pytest.raises(PermissionDenied):
        revoke_write_key(session, bob.actor, key.id)
    with pytest.raises(InvalidInput, match="name"):
        create_write_key(session, alice.actor, "   ")


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


def test_it_creates_lists_and_revokes_keys_from_the_command_line(database: str) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["events", "write-keys", "create", "--name", "ウェブ"])
    assert created.exit_code == 0, created.output
    plain = next(w for w in created.output.split() if w.startswith("bwk_"))
    listed = runner.invoke(app, ["events", "write-keys", "list"])
    assert "ウェブ" in listed.output and "active" in listed.output
    assert plain not in listed.output
    revoked = runner.invoke(app, ["events", "write-keys", "revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(app, ["events", "write-keys", "list"]).output
    missing = runner.invoke(app, ["events", "write-keys", "revoke", "42"])
    assert missing.exit_code == 1
    assert "42" in missing.output
    engine = make_engine(load_settings(database_url=database))
    with engine.connect() as conn:
        assert conn.execute(select(WriteKey.revoked_at)).scalar() is not None
    engine.dispose()


def test_it_creates_a_key_in_a_fresh_process(database: str, tmp_path: Path) -> None:
    """The command alone (no test imports) knows every table its audit row refers to."""
    env = {**os.environ, "BANSO_DATA_DIR": str(tmp_path), "BANSO_DATABASE_URL": database}
    code = "from banso.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "events", "write-keys", "create", "--name", "cron"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "bwk_" in done.stdout
