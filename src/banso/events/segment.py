"""Segment's HTTP Tracking API format: request bodies in, event rows (the store's shape) out.

Limits follow Segment: 32 KB per event, 500 KB and 2,500 events per batch, ``messageId`` of at
most 100 characters. A batch is accepted or rejected whole; a rejection names the event (its
index in ``batch``) and the field, so that the sender can find it.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2500
MAX_MESSAGE_ID = 100
MAX_ID = 200  # user, anonymous, group and previous ids: the usage tables' column width
TYPES = ("track", "identify", "group", "page", "screen", "alias")
# One encoder for every event: json.dumps with options builds a new one per call.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# An escaped UTF-16 surrogate in the raw text: only then can a lone one hide in the data.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass
class Rejected(Exception):
    """A request banso refuses; ``as_dict`` is the JSON error body."""

    status: int
    error: str
    message: str
    index: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # "code" and "message" are what Segment's own clients read from an error response.
        body: dict[str, Any] = {
            "success": False,
            "error": self.error,
            "code": self.error,
            "message": self.message,
        }
        if self.index is not None:
            body["index"] = self.index
        if self.field is not None:
            body["field"] = self.field
        return body


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress a gzip body, refusing garbage and anything that grows beyond ``limit``."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
        if len(data) > limit:
            raise Rejected(413, "too_large", f"the decompressed body exceeds {limit} bytes")
        if not inflater.eof:
            raise Rejected(400, "invalid_gzip", "the gzip body is truncated")
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise Rejected(400, "invalid_gzip", f"the body is not valid gzip: {exc}") from exc
    return data


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> dict[str, Any]:
    """The JSON object of a body; 400 for anything else (bad UTF-8, NaN, lone surrogates...)."""
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constants)
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeError as exc:
        raise Rejected(400, "invalid_json", f"the body is not valid UTF-8 text: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise Rejected(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise Rejected(400, "invalid_json", "the body must be a JSON object")
    return value


def _json_text(value: Any, name: str, index: int | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Rejected(400, "invalid_event", f"{name} must be an object", index, name)
    return _ENCODE(value)


def _id(msg: dict[str, Any], name: str, index: int | None, limit: int = MAX_ID) -> str | None:
    value = msg.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Rejected(400, "invalid_event", f"{name} must be a string", index, name)
    text = str(value)
    if len(text) > limit:
        message = f"{name} is {len(text)} characters long; at most {limit} are accepted"
        raise Rejected(400, "invalid_event", message, index, name)
    if "\x00" in text:
        raise Rejected(400, "invalid_event", f"{name} contains a NUL character", index, name)
    return text


def _time(msg: dict[str, Any], name: str, index: int | None) -> datetime | None:
    value = msg.get(name)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        message = f"{name} must be an ISO 8601 time like 2026-11-22T09:00:00Z, not {value!r:.60}"
        raise Rejected(400, "invalid_event", message, index, name) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _group_of(msg: dict[str, Any], kind: str, index: int | None) -> str | None:
    if kind == "group":
        return _id(msg, "groupId", index)
    for holder in ("context", "properties"):
        part = msg.get(holder)
        if isinstance(part, dict) and part.get("groupId") not in (None, ""):
            return _id(part, "groupId", index)
    return None


def _require(kind: str, msg: dict[str, Any], ids: dict[str, str | None], index: int | None) -> None:
    if not (ids["user_id"] or ids["anonymous_id"]):
        raise Rejected(
            400, "missing_id", "every event needs a userId or an anonymousId", index, "userId"
        )
    needs = {"track": "event", "group": "groupId", "alias": "previousId"}.get(kind)
    if needs == "event" and not (isinstance(msg.get("event"), str) and msg["event"].strip()):
        raise Rejected(400, "invalid_event", "a track call needs an event name", index, "event")
    if needs == "groupId" and not ids["group_id"]:
        raise Rejected(400, "invalid_event", "a group call needs a groupId", index, "groupId")
    if needs == "previousId" and not (ids["previous_id"] and ids["user_id"]):
        message = "an alias call needs a previousId and a userId"
        raise Rejected(400, "invalid_event", message, index, "previousId")


def _name(msg: dict[str, Any], kind: str, index: int | None) -> str | None:
    field = "event" if kind == "track" else "name" if kind in ("page", "screen") else None
    if field is None or msg.get(field) is None:
        return None
    if not isinstance(msg[field], str):
        raise Rejected(400, "invalid_event", f"{field} must be a string", index, field)
    return msg[field]


def to_row(
    msg: dict[str, Any],
    kind: str,
    *,
    received_at: datetime,
    source: str,
    index: int | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event row from one Segment message (``context``: the batch's, merged under it)."""
    ids = {
        "user_id": _id(msg, "userId", index),
        "anonymous_id": _id(msg, "anonymousId", index),
        "group_id": _group_of(msg, kind, index),
        "previous_id": _id(msg, "previousId", index),
    }
    _require(kind, msg, ids, index)
    message_id = _id(msg, "messageId", index, MAX_MESSAGE_ID) or uuid.uuid4().hex
    own_context = msg.get("context")
    if context and (own_context is None or isinstance(own_context, dict)):
        own_context = {**context, **(own_context or {})}
    traits = msg.get("traits")
    if traits is None and isinstance(own_context, dict) and kind in ("identify", "group"):
        traits = own_context.get("traits")
    timestamp = _time(msg, "timestamp", index) or _time(msg, "originalTimestamp", index)
    return {
        "message_id": message_id,
        "type": kind,
        "event": _name(msg, kind, index),
        **ids,
        "timestamp": timestamp or received_at,
        "received_at": received_at,
        "properties": _json_text(msg.get("properties"), "properties", index),
        "traits": _json_text(traits, "traits", index),
        "context": _json_text(own_context, "context", index),
        "source": source,
    }


def _event_size(msg: dict[str, Any]) -> int:
    return len(_ENCODE(msg).encode("utf-8"))


def batch_rows(
    body: dict[str, Any], raw_size: int, *, received_at: datetime, source: str
) -> list[dict[str, Any]]:
    """The rows of a /v1/batch or /v1/import body, checked against Segment's limits."""
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise Rejected(
            400, "invalid_batch", "the body needs a batch array of events", None, "batch"
        )
    if len(batch) > MAX_BATCH_EVENTS:
        message = f"the batch has {len(batch)} events; at most {MAX_BATCH_EVENTS} are accepted"
        raise Rejected(413, "too_many_events", message, None, "batch")
    context = body.get("context") if isinstance(body.get("context"), dict) else None
    rows = []
    for index, msg in enumerate(batch):
        if not isinstance(msg, dict):
            raise Rejected(400, "invalid_event", "each event must be an object", index)
        # A body under the per-event limit cannot hold an event over it: skip the measuring.
        if raw_size > MAX_EVENT_BYTES and _event_size(msg) > MAX_EVENT_BYTES:
            message = f"event {index} is larger than {MAX_EVENT_BYTES // 1024} KB"
            raise Rejected(413, "event_too_large", message, index)
        kind = msg.get("type")
        if kind not in TYPES:
            message = f"type must be one of {', '.join(TYPES)}, not {str(kind)[:40]!r}"
            raise Rejected(400, "invalid_event", message, index, "type")
        rows.append(
            to_row(msg, kind, received_at=received_at, source=source, index=index, context=context)
        )
    return rows
