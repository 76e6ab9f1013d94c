"""Segment calls arrive in the event store, acknowledged with Segment's response."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from banso.events.store import EventStore
from tests.events.conftest import send, stored, track


def test_it_stores_a_track_call_sent_with_basic_auth(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = {
        "userId": "u-1",
        "event": "レポート作成",
        "properties": {"名前": "月次レポート"},
        "messageId": "m-1",
        "timestamp": "2026-11-01T09:30:00+09:00",
    }
    response = send(usage_client, "/v1/track", body, write_key)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    row = stored(store).to_pylist()[0]
    assert row["message_id"] == "m-1"
    assert row["type"] == "track"
    assert row["event"] == "レポート作成"
    assert json.loads(row["properties"]) == {"名前": "月次レポート"}
    assert row["timestamp"].isoformat() == "2026-11-01T00:30:00+00:00"
    assert row["source"] == "web"


def test_it_accepts_the_write_key_in_the_body(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = {"writeKey": write_key, "anonymousId": "anon-1", "name": "Pricing"}
    assert send(usage_client, "/v1/page", body).status_code == 200
    row = stored(store).to_pylist()[0]
    assert (row["type"], row["event"], row["anonymous_id"]) == ("page", "Pricing", "anon-1")


def test_it_stores_every_kind_of_call(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    calls = {
        "identify": {"userId": "u1", "traits": {"email": "a@x.example"}},
        "group": {"userId": "u1", "groupId": "g1", "traits": {"name": "さくら"}},
        "page": {"userId": "u1", "name": "Home"},
        "screen": {"userId": "u1", "name": "Settings"},
        "alias": {"userId": "u1", "previousId": "anon-9"},
        "track": {"userId": "u1", "event": "Signed Up"},
    }
    for kind, body in calls.items():
        assert send(usage_client, f"/v1/{kind}", body, write_key).status_code == 200, kind
    rows = {r["type"]: r for r in stored(store).to_pylist()}
    assert set(rows) == set(calls)
    assert rows["group"]["group_id"] == "g1"
    assert rows["alias"]["previous_id"] == "anon-9"
    assert json.loads(rows["identify"]["traits"]) == {"email": "a@x.example"}


def test_it_stores_a_gzipped_batch_with_the_batch_context(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = {
        "batch": [track(messageId=f"b-{i}", context={"page": {"path": "/"}}) for i in range(50)],
        "context": {"library": {"name": "analytics-python"}},
    }
    response = send(usage_client, "/v1/batch", body, write_key, gzipped=True)
    assert response.status_code == 200, response.text
    rows = stored(store).to_pylist()
    assert len(rows) == 50
    context = json.loads(rows[0]["context"])
    assert context == {"library": {"name": "analytics-python"}, "page": {"path": "/"}}


def test_it_gives_an_event_without_message_id_an_id(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = {"batch": [track(), track()]}
    assert send(usage_client, "/v1/import", body, write_key).status_code == 200
    ids = stored(store).column("message_id").to_pylist()
    assert len(set(ids)) == 2
    assert all(0 < len(i) <= 100 for i in ids)


def test_it_counts_a_retried_batch_once(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = {"batch": [track(messageId=f"retry-{i}") for i in range(10)]}
    for _ in range(3):
        assert send(usage_client, "/v1/batch", body, write_key).status_code == 200
    assert send(usage_client, "/v1/track", track(messageId="retry-3"), write_key).status_code == 200
    assert stored(store).num_rows == 10


def test_it_takes_the_group_from_the_context_of_a_track_call(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = track(context={"groupId": "g-7"})
    assert send(usage_client, "/v1/track", body, write_key).status_code == 200
    assert stored(store).column("group_id").to_pylist() == ["g-7"]


def test_it_keeps_the_original_timestamp_when_there_is_no_timestamp(
    usage_client: TestClient, store: EventStore, write_key: str
) -> None:
    body = track(originalTimestamp="2026-01-02T03:04:05Z")
    assert send(usage_client, "/v1/track", body, write_key).status_code == 200
    stamp = stored(store).column("timestamp").to_pylist()[0]
    assert stamp.isoformat() == "2026-01-02T03:04:05+00:00"
