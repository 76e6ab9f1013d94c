"""`banso demo` writes the documents (timeline, meetings, tasks...) unless told not to, and
writes them again after `--reset`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, func, select
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.cli import app
from banso.db import make_engine
from banso.meetings.models import Meeting
from banso.search.models import DocumentSearch
from banso.timeline.models import TimelineEntry

runner = CliRunner()


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


def _count(query: Select[Any]) -> int:
    engine = make_engine(cli_support.settings())
    try:
        with engine.connect() as conn:
            return int(conn.scalar(query) or 0)
    finally:
        engine.dispose()


def _counts() -> tuple[int, int, int]:
    return (
        _count(select(func.count()).select_from(TimelineEntry)),
        _count(select(func.count()).select_from(Meeting)),
        _count(select(func.count()).select_from(DocumentSearch)),
    )


def test_it_writes_the_documents_with_the_demo(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--accounts", "20", "--seed", "2", "--no-usage"])
    assert result.exit_code == 0, result.output
    assert "timeline entries" in result.output and "meetings" in result.output
    entries, meetings, indexed = _counts()
    assert entries > 20 and meetings > 0 and indexed > entries + meetings
    again = runner.invoke(
        app, ["demo", "--accounts", "20", "--seed", "2", "--no-usage", "--reset", "--yes"]
    )
    assert again.exit_code == 0, again.output
    assert _counts() == (entries, meetings, indexed)


def test_it_writes_no_documents_when_told_not_to(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["demo", "--accounts", "20", "--seed", "2", "--no-usage", "--no-documents"]
    )
    assert result.exit_code == 0, result.output
    assert "timeline entries" not in result.output
    assert _counts() == (0, 0, 0)
