"""Fixtures for product usage: an event store per test, a write key, a client that sends."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.events.store import EventStore
from banso.events.writekeys import create_write_key
from tests.conftest import Person


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    events = EventStore(tmp_path / "events")
    yield events
    events.close()


@pytest.fixture
def usage_client(app: FastAPI, store: EventStore) -> Iterator[TestClient]:
    app.state.event_store = store
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def write_key(session: Session, alice: Person) -> str:
    _, plain = create_write_key(session, alice.actor, "web")
    session.flush()
    return plain


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def send(
    client: TestClient, path: str, body: Any, key: str | None = None, *, gzipped: bool = False
) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **(basic(key) if key else {})}
    if gzipped:
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    return client.post(path, content=data, headers=headers)


def stored(store: EventStore) -> pa.Table:
    """Every event the store has acknowledged, ordered by message id."""
    with store.snapshot() as snap:
        if not snap.files:
            from banso.events.schema import EVENT_SCHEMA

            return EVENT_SCHEMA.empty_table()
        table = pq.read_table([str(f) for f in snap.files])
    return table.sort_by("message_id")


def track(user: str = "u1", event: str = "Logged In", **extra: Any) -> dict[str, Any]:
    return {"type": "track", "userId": user, "event": event, **extra}
