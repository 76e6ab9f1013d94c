"""`banso refresh` and `banso metrics` on a real SQLite database and event store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from banso import cli_support, migrate
from banso.cli import app
from banso.cli_support import open_session
from banso.db import make_engine
from banso.events.models import UsageUser
from banso.events.schema import EVENT_SCHEMA
from banso.events.store import EventStore, default_root
from banso.metrics.models import MetricSnapshot
from tests.factories import make_account
from tests.metrics.conftest import event, utc

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANSO_DATABASE_URL", f"sqlite:///{tmp_path / 'banso.db'}")
    monkeypatch.setenv("BANSO_METRICS_ENGINE", "duckdb")
    cli_support.settings.cache_clear()
    engine = make_engine(cli_support.settings())
    migrate.upgrade(engine)
    engine.dispose()
    monkeypatch.setattr(cli_support.console, "_width", 200)
    monkeypatch.setattr(cli_support.err_console, "_width", 200)
    yield tmp_path
    cli_support.settings.cache_clear()


@pytest.fixture
def account_id(data_dir: Path) -> int:
    with open_session() as session:
        account = make_account(session, name="株式会社アクメ")
        session.add(UsageUser(user_id="u1", account_id=account.id))
        session.flush()
        found = account.id
    rows = [event(1, utc(2026, 11, 10, 1), "u1"), event(2, utc(2026, 11, 12, 1), "u1")]
    with EventStore(default_root(data_dir)) as store:
        store.append_table(pa.Table.from_pylist(rows, EVENT_SCHEMA))
    return found


def _values(account_id: int, key: str) -> dict[date, float | None]:
    with open_session() as session:
        rows = session.execute(
            select(MetricSnapshot.as_of, MetricSnapshot.value).where(
                MetricSnapshot.account_id == account_id, MetricSnapshot.metric_key == key
            )
        ).all()
    return dict(rows)


def test_it_refreshes_one_date(account_id: int) -> None:
    result = runner.invoke(app, ["refresh", "--as-of", "2026-11-12"])
    assert result.exit_code == 0, result.output
    assert "2026-11-12: 20 metrics × 1 accounts (20 values)" in result.output
    assert _values(account_id, "events_30d") == {date(2026, 11, 12): 2.0}


def test_it_backfills_a_range(account_id: int) -> None:
    result = runner.invoke(
        app, ["refresh", "--from", "2026-11-09", "--to", "2026-11-23", "--every", "7d"]
    )
    assert result.exit_code == 0, result.output
    assert _values(account_id, "events_30d") == {
        date(2026, 11, 9): 0.0,
        date(2026, 11, 16): 2.0,
        date(2026, 11, 23): 2.0,
    }


def test_it_refuses_a_bad_range_and_writes_nothing(account_id: int) -> None:
    result = runner.invoke(app, ["refresh", "--from", "2026-11-20", "--to", "2026-11-01"])
    assert result.exit_code == 1
    assert "is before --from" in result.output
    assert _values(account_id, "events_30d") == {}


def test_it_exports_and_imports_metrics(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "metrics.yaml"
    assert runner.invoke(app, ["metrics", "export", "-o", str(out)]).exit_code == 0
    edited = out.read_text("utf-8").replace("name: Seats (active contracts)", "name: 契約席数")
    out.write_text(edited, "utf-8")
    result = runner.invoke(app, ["metrics", "import", str(out)])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(app, ["metrics", "list"])
    assert "契約席数" in listing.output


def test_it_refuses_a_bad_metrics_file(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {key: x, name: X, spec: {kind: ratio, numerator: x1, denominator: seats}}\n")
    result = runner.invoke(app, ["metrics", "import", str(bad)])
    assert result.exit_code == 1
    assert "unknown metric 'x1'" in result.output
    assert "x" not in {
        line.split()[0]
        for line in runner.invoke(app, ["metrics", "list"]).output.splitlines()
        if line.strip()
    }
