"""The official Segment client, pointed at a live banso server on loopback, delivers events."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from segment.analytics.client import Client
from segment.analytics.request import APIError
from sqlalchemy import select

from banso import migrate
from banso.accounts.models import Account
from banso.app import create_app
from banso.audit.service import Actor
from banso.auth.service import UserIn, create_user
from banso.db import make_engine, make_sessionmaker, session_scope
from banso.events.models import UsageUser
from banso.events.store import EventStore
from banso.events.writekeys import create_write_key
from banso.settings import Settings, load_settings
from banso.web.security import SESSION_COOKIE, start_session
from tests.events.conftest import stored
from tests.factories import make_account, make_contact


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Settings, str, str]]:
    """A migrated SQLite banso with a write key and an account, served by uvicorn."""
    settings = load_settings(data_dir=str(tmp_path), database_url=f"sqlite:///{tmp_path / 'b.db'}")
    engine = make_engine(settings)
    migrate.upgrade(engine)
    with session_scope(make_sessionmaker(engine)) as session:
        _, key = create_write_key(session, Actor(label="test"), "python-sdk")
        account = make_account(session, name="株式会社セグメント", domains=["segment-test.example"])
        make_contact(session, account, email="hanako@segment-test.example")
    engine.dispose()
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert uv.started, "the server did not start"
    yield settings, f"http://127.0.0.1:{port}", key
    uv.should_exit = True
    thread.join(10)


def test_it_receives_events_from_the_official_segment_client(
    server: tuple[Settings, str, str],
) -> None:
    settings, host, key = server
    errors: list[Exception] = []
    client = Client(
        write_key=key, host=host, gzip=True, max_retries=1, on_error=lambda e, _: errors.append(e)
    )
    client.identify("user-42", {"email": "hanako@segment-test.example", "name": "花子"})
    client.group("user-42", "tenant-42", {"name": "株式会社セグメント"})
    for i in range(120):
        client.track("user-42", "Report Created", {"n": i, "タイトル": "月次"})
    client.page("user-42", "Docs", "Getting started")
    client.flush()
    client.join()
    sync = Client(write_key=key, host=host, sync_mode=True, on_error=lambda e, _: errors.append(e))
    sync.track(anonymous_id="anon-1", event="Visited")
    assert errors == []
    with EventStore(Path(settings.data_dir) / "events") as store:
        rows = stored(store).to_pylist()
    assert len(rows) == 124
    kinds = sorted({r["type"] for r in rows})
    assert kinds == ["group", "identify", "page", "track"]
    assert {r["source"] for r in rows} == {"python-sdk"}
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        user = session.scalars(select(UsageUser).where(UsageUser.user_id == "user-42")).one()
        assert user.contact_id is not None and user.link_source == "email"
    engine.dispose()


def test_it_makes_the_client_report_a_bad_write_key(server: tuple[Settings, str, str]) -> None:
    _, host, _ = server
    client = Client(write_key="bwk_wrong", host=host, sync_mode=True)
    with pytest.raises(APIError) as refused:
        client.track("user-1", "Logged In")
    assert refused.value.status == 401
    assert refused.value.code == "invalid_write_key"
    assert "unknown or revoked" in refused.value.message


def test_it_takes_concurrent_identify_batches_without_losing_any(
    server: tuple[Settings, str, str],
) -> None:
    """Many requests writing identities at once wait their turn on SQLite; none fails."""
    settings, host, key = server
    clients = [Client(write_key=key, host=host, sync_mode=True) for _ in range(4)]

    failures: list[Exception] = []

    def send(n: int) -> None:
        try:
            for i in range(10):
                clients[n].identify(f"c{n}-{i}", {"email": f"p{n}{i}@segment-test.example"})
                clients[n].track(f"c{n}-{i}", "Logged In")
        except Exception as exc:  # any failure of a sender fails the test below
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        linked = session.scalars(select(UsageUser.account_id).where(UsageUser.user_id.like("c%")))
        assert len([a for a in linked if a is not None]) == 40
    engine.dispose()
    with EventStore(Path(settings.data_dir) / "events") as store:
        assert stored(store).num_rows == 80


def test_its_events_show_as_usage_on_the_customer_page_after_a_refresh(
    server: tuple[Settings, str, str],
) -> None:
    """End to end: SDK → ingestion → `banso refresh` → the customer page's usage charts."""
    settings, host, key = server
    client = Client(write_key=key, host=host, sync_mode=True)
    client.identify("user-7", {"email": "hanako@segment-test.example"})
    for _ in range(3):
        client.track("user-7", "Report Created")
    env = {**os.environ, "BANSO_DATA_DIR": str(settings.data_dir),
           "BANSO_DATABASE_URL": settings.effective_database_url}  # fmt: skip
    today = datetime.now(ZoneInfo(settings.timezone)).date().isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "banso", "refresh", "--as-of", today],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    engine = make_engine(settings)
    with session_scope(make_sessionmaker(engine)) as session:
        account = session.scalars(select(Account).where(Account.name == "株式会社セグメント")).one()
        reader = create_user(session, Actor(label="test"), UserIn(email="r@example.com",
                             name="r", role="viewer"))  # fmt: skip
        _row, cookie = start_session(session, settings, reader)
        account_id = account.id
    engine.dispose()
    request = urllib.request.Request(
        f"{host}/customers/{account_id}/slots/usage",
        headers={"Cookie": f"{SESSION_COOKIE}={cookie}", "HX-Request": "true",
                 "Accept-Language": "en"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        slot = answer.read().decode()
    shown = re.search(r"Events \(30 days\)</span> <strong>(\d+)</strong>", slot)
    assert shown, slot
    assert int(shown.group(1)) == 3  # three tracks; an identify call is no use of the product
