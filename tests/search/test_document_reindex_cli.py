"""`banso search reindex` rebuilds the document index too, on a real, migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.cli import app
from banso.cli_support import open_session
from banso.db import make_engine
from banso.search.documents import put, search
from banso.search.models import DocumentSearch
from tests.search._docs import doc


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANSO_DATABASE_URL", f"sqlite:///{tmp_path / 'banso.db'}")
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    monkeypatch.setattr(cli_support.console, "_width", 200)
    yield tmp_path
    cli_support.settings.cache_clear()


def test_it_rebuilds_documents_from_their_sources(data_dir: Path) -> None:
    with open_session() as session:
        # In the index but in no capability's tables: a rebuild drops it.
        put(session, doc(1, "解約ヒアリング"))
    result = CliRunner().invoke(app, ["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "documents" in result.output
    with open_session() as session:
        assert session.scalar(select(func.count()).select_from(DocumentSearch)) == 0
        assert search(session, "解約").hits == []
