"""Every request banso refuses gets a clear error saying what and where; nothing is stored."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.events.models import WriteKey
from banso.events.store import EventStore
from banso.events.writekeys import revoke_write_key
from tests.conftest import Person
from tests.events.conftest import basic, send, stored, track


def _refused(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"] == error
    assert body["message"]
    return dict(body)


def test_it_refuses_an_unknown_write_key(usage_client: TestClient, store: EventStore) -> None:
    _refused(send(usage_client, "/v1/track", track(), "bwk_nope"), 401, "invalid_write_key")
    _refused(send(usage_client, "/v1/track", track()), 401, "missing_write_key")
    response = usage_client.post(
        "/v1/track", json=track(), headers={"Authorization": "Basic !!!not-base64"}
    )
    _refused(response, 401, "invalid_write_key")
    assert stored(store).num_rows == 0


def test_it_refuses_a_revoked_write_key(
    usage_client: TestClient, store: EventStore, write_key: str, session: Session, alice: Person
) -> None:
    key = session.scalars(select(WriteKey)).one()
    revoke_write_key(session, alice.actor, key.id)
    session.commit()
    _refused(send(usage_client, "/v1/track", track(), write_key), 401, "invalid_write_key")
    assert stored(store).num_rows == 0


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"userId": "u", "event": "e", "properties": {"x": NaN}}', "NaN"),
        (b'{"userId": "u\\ud800", "event": "e"}', "surrogate"),
        (b"[" * 10_000 + b"]" * 10_000, "recursion"),
    ],
)
def test_it_refuses_a_body_that_is_not_a_json_object(
    usage_client: TestClient, store: EventStore, write_key: str, raw: bytes, what: str
) -> None:
    body = _refused(send(usage_client, "/v1/track", raw, write_key), 400, "invalid_json")
    assert what.lower() in body["message"].lower()
    assert stored(store).num_rows == 0


def test_it_refuses_gzip_garbage_and_gzip_bombs(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    headers = {**basic(write_key), "Content-Encoding": "gzip"}
    response = usage_client.post("/v1/batch", content=b"not gzip at all", headers=headers)
    _refused(response, 400, "invalid_gzip")
    truncated = gzip.compress(b'{"batch": []}')[:-6]
    _refused(
        usage_client.post("/v1/batch", content=truncated, headers=headers), 400, "invalid_gzip"
    )
    bomb = gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}")
    _refused(usage_client.post("/v1/batch", content=bomb, headers=headers), 413, "too_large")
    assert stored(store).num_rows == 0


def test_it_refuses_an_event_over_32_kb(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    big = track(properties={"blob": "あ" * 12_000})  # 36 KB in UTF-8
    _refused(send(usage_client, "/v1/track", big, write_key), 413, "too_large")
    body = {"batch": [track(), track(), big]}
    refused = _refused(send(usage_client, "/v1/batch", body, write_key), 413, "event_too_large")
    assert refused["index"] == 2
    assert stored(store).num_rows == 0


def test_it_refuses_a_batch_over_500_kb_or_2500_events(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    heavy = {"batch": [track(properties={"blob": "x" * 20_000}) for _ in range(30)]}
    _refused(send(usage_client, "/v1/batch", heavy, write_key), 413, "too_large")
    many = {"batch": [{"type": "track", "userId": "u", "event": "e"} for _ in range(2501)]}
    refused = _refused(send(usage_client, "/v1/batch", many, write_key), 413, "too_many_events")
    assert "2501" in refused["message"]
    assert stored(store).num_rows == 0


@pytest.mark.parametrize(
    ("event", "field", "error"),
    [
        ({"type": "track", "event": "e"}, "userId", "missing_id"),
        (
            {"type": "track", "userId": "", "anonymousId": None, "event": "e"},
            "userId",
            "missing_id",
        ),
        ({"type": "track", "userId": "u"}, "event", "invalid_event"),
        ({"type": "group", "userId": "u"}, "groupId", "invalid_event"),
        ({"type": "alias", "userId": "u"}, "previousId", "invalid_event"),
        ({"type": "bogus", "userId": "u"}, "type", "invalid_event"),
        ({**track(), "messageId": "m" * 101}, "messageId", "invalid_event"),
        ({**track(), "userId": "u" * 201}, "userId", "invalid_event"),
        ({**track(), "userId": "nul\x00byte"}, "userId", "invalid_event"),
        ({**track(), "userId": {"$ne": 1}}, "userId", "invalid_event"),
        ({**track(), "properties": ["not", "an", "object"]}, "properties", "invalid_event"),
        ({**track(), "timestamp": "yesterday"}, "timestamp", "invalid_event"),
    ],
)
def test_it_names_the_bad_event_and_field_of_a_batch(
    usage_client: TestClient,
    store: EventStore,
    write_key: str,
    event: dict[str, Any],
    field: str,
    error: str,
) -> None:
    body = {"batch": [track(messageId="good"), event]}
    refused = _refused(send(usage_client, "/v1/batch", body, write_key), 400, error)
    assert refused["index"] == 1
    assert refused["field"] == field
    assert stored(store).num_rows == 0, "a refused batch stores nothing, not even its good events"


def test_it_refuses_a_batch_without_a_batch_array(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = {"batch": {"type": "track"}}
    refused = _refused(send(usage_client, "/v1/batch", body, write_key), 400, "invalid_batch")
    assert refused["field"] == "batch"


def test_it_keeps_hostile_text_as_plain_data(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    hostile = "'; DROP TABLE usage_users; -- <script>alert(1)</script> 🙂 \u202e"
    body = {"userId": hostile, "event": hostile, "traits": {"email": hostile}}
    assert send(usage_client, "/v1/track", body, write_key).status_code == 200
    assert send(usage_client, "/v1/identify", body, write_key).status_code == 200
    rows = stored(store).to_pylist()
    assert {r["user_id"] for r in rows} == {hostile}
    assert rows[0]["event"] in (hostile, None)
