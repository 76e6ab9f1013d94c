"""`banso events import`: CSV, JSON lines and Parquet files into the event store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from banso import cli_support
from banso.cli import app
from banso.errors import InvalidInput
from banso.events.importer import ImportFailed, import_events
from banso.events.store import EventStore
from tests.events.conftest import stored

CSV = """uid,when,what,plan,props
u1,2026-01-05T09:00:00+09:00,ログイン,pro,"{""画面"": ""ホーム""}"
u2,2026-01-05 10:00:00,Report Created,free,
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_it_imports_a_csv_with_a_column_mapping(tmp_path: Path, store: EventStore) -> None:
    path = _write(tmp_path / "events.csv", CSV)
    mapping = [
        "uid=user_id",
        "when=timestamp",
        "what=event",
        "plan=properties.plan",
        "props=properties",
    ]
    result = import_events(store, path, "csv", mapping)
    assert (result.rows_read, result.rows_added) == (2, 2)
    rows = {r["user_id"]: r for r in stored(store).to_pylist()}
    assert rows["u1"]["event"] == "ログイン"
    assert rows["u1"]["type"] == "track"
    assert json.loads(rows["u1"]["properties"]) == {"画面": "ホーム", "plan": "pro"}
    assert rows["u1"]["timestamp"].isoformat() == "2026-01-05T00:00:00+00:00"
    assert rows["u2"]["timestamp"].isoformat() == "2026-01-05T10:00:00+00:00"
    assert rows["u1"]["source"] == "import:events.csv"


def test_it_adds_nothing_when_the_same_file_is_imported_again(
    tmp_path: Path, store: EventStore
) -> None:
    path = _write(tmp_path / "events.csv", CSV)
    mapping = ["uid=user_id", "when=timestamp", "what=event"]
    import_events(store, path, "csv", mapping)
    again = import_events(store, path, "csv", mapping)
    assert again.rows_added == 0
    assert stored(store).num_rows == 2


def test_it_imports_json_lines_with_segment_field_names(tmp_path: Path, store: EventStore) -> None:
    lines = [
        {
            "type": "identify",
            "userId": "u1",
            "timestamp": "2026-02-01T00:00:00Z",
            "traits": {"email": "a@b.example"},
        },
        {
            "type": "track",
            "anonymousId": "a1",
            "event": "見た",
            "timestamp": "2026-02-01T00:00:01Z",
            "messageId": "m-2",
        },
    ]
    path = _write(tmp_path / "e.jsonl", "\n".join(json.dumps(x, ensure_ascii=False) for x in lines))
    assert import_events(store, path, "jsonl", []).rows_added == 2
    rows = {r["type"]: r for r in stored(store).to_pylist()}
    assert json.loads(rows["identify"]["traits"]) == {"email": "a@b.example"}
    assert rows["track"]["message_id"] == "m-2"


def test_it_imports_parquet_with_real_timestamps(tmp_path: Path, store: EventStore) -> None:
    table = pa.table(
        {
            "user_id": ["u1", "u2", "u3"],
            "event": ["a", "b", "c"],
            "timestamp": pa.array([1_700_000_000_000_000] * 3, pa.timestamp("us")),
            "properties": pa.array([{"n": 1}, {"n": 2}, None], pa.struct([("n", pa.int64())])),
        }
    )
    pq.write_table(table, tmp_path / "e.parquet")
    assert import_events(store, tmp_path / "e.parquet", "parquet", []).rows_added == 3
    assert json.loads(stored(store).to_pylist()[0]["properties"]) in ({"n": 1}, {"n": 2})


def test_it_names_row_and_column_of_every_bad_row_and_stores_nothing(
    tmp_path: Path, store: EventStore
) -> None:
    text = (
        "user_id,timestamp,event,type,properties\n"
        "u1,2026-01-01T00:00:00Z,ok,track,\n"
        ",2026-01-01T00:00:00Z,no user,track,\n"
        "u3,yesterday,bad time,track,\n"
        "u4,2026-01-01T00:00:00Z,x,bogus,\n"
        "u5,2026-01-01T00:00:00Z,x,track,[1]\n"
    )
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(ImportFailed) as failed:
        import_events(store, path, "csv", [])
    found = {(e.row, e.column) for e in failed.value.result.errors}
    assert found == {(3, "user_id"), (4, "timestamp"), (5, "type"), (6, "properties")}
    assert stored(store).num_rows == 0
    result = import_events(store, path, "csv", [], skip_bad_rows=True)
    assert (result.rows_added, result.rows_skipped) == (1, 4)


def test_it_reports_lines_that_are_not_json(tmp_path: Path, store: EventStore) -> None:
    good = json.dumps({"userId": "u", "event": "e", "timestamp": "2026-01-01T00:00:00Z"})
    path = _write(tmp_path / "e.jsonl", f"{good}\n{{broken\n{good}\n")
    with pytest.raises(ImportFailed) as failed:
        import_events(store, path, "jsonl", [])
    assert [(e.row, e.column) for e in failed.value.result.errors] == [(2, None)]


def test_it_refuses_a_mapping_it_cannot_use(tmp_path: Path, store: EventStore) -> None:
    path = _write(tmp_path / "events.csv", CSV)
    with pytest.raises(InvalidInput, match="no column 'nope'"):
        import_events(store, path, "csv", ["nope=user_id"])
    with pytest.raises(InvalidInput, match="not a field"):
        import_events(store, path, "csv", ["uid=userid"])
    with pytest.raises(InvalidInput, match="user_id or anonymous_id"):
        import_events(store, path, "csv", ["what=event"])


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BANSO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    cli_support.settings.cache_clear()
    yield tmp_path
    cli_support.settings.cache_clear()


def test_it_imports_from_the_command_line_and_lists_bad_rows(cli_env: Path) -> None:
    runner = CliRunner()
    path = _write(cli_env / "e.csv", "uid,when,what\nu1,2026-01-01T00:00:00Z,a\nu2,nope,b\n")
    args = ["events", "import", str(path), "--map", "uid=user_id", "--map", "when=timestamp"]
    args += ["--map", "what=event"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "nothing was imported" in refused.output
    assert "when" in refused.output and "3" in refused.output
    done = runner.invoke(app, [*args, "--skip-bad-rows"])
    assert done.exit_code == 0, done.output
    assert "Imported 1 events" in done.output
    compacted = runner.invoke(app, ["events", "compact"])
    assert compacted.exit_code == 0, compacted.output
    with EventStore(cli_env / "events") as store:
        assert stored(store).column("user_id").to_pylist() == ["u1"]
