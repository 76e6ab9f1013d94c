"""Segment-compatible endpoints at the server root (/v1/track, /v1/batch, ...).

An unmodified Segment or RudderStack SDK with its host set to banso sends here. A request is
acknowledged (200 ``{"success": true}``) only once its events are durable in the event store;
the store's group commit lets concurrent requests share one flush, awaited without blocking the
event loop. Identify, group and alias calls then link users and groups to contacts and accounts
(set-based, one pass per request).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from banso.api.deps import SessionDep
from banso.db import utcnow
from banso.events import identities, segment
from banso.events.segment import Rejected
from banso.events.writekeys import KnownKey, check_write_key, touch_write_key

router = APIRouter(tags=["product usage (Segment-compatible)"])

SINGLE = ("track", "identify", "group", "page", "screen", "alias")
_TOUCH_EVERY = 60.0  # seconds between two last_used_at writes of one key
_KNOWN_USERS_CAP = 100_000


def event_store(app: FastAPI) -> Any:
    """The app's event store, opened on first use (``data_dir/events``)."""
    store = getattr(app.state, "event_store", None)
    if store is None:
        from banso.events.store import EventStore

        store = EventStore(app.state.settings.data_dir / "events")
        app.state.event_store = store
        app.state.event_store_owned = True
    return store


def install(app: FastAPI) -> None:
    """Mount the endpoints at the root and close the event store when the server stops."""
    app.include_router(router)
    app.state.usage_known_users = set()
    app.state.usage_key_touched = {}
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with outer(application) as state:
            try:
                yield state
            finally:
                # Close only a store the app opened; one handed in belongs to its giver.
                store = getattr(app.state, "event_store", None)
                if store is not None and getattr(app.state, "event_store_owned", False):
                    app.state.event_store = None
                    await run_in_threadpool(store.close)

    app.router.lifespan_context = lifespan


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (413) as soon as it grows beyond ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Rejected(413, "too_large", f"the body is {declared} bytes; at most {limit} accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, "too_large", f"the body exceeds {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip":
        return segment.gunzip(body, limit)
    if encoding not in ("", "identity"):
        raise Rejected(400, "invalid_encoding", f"Content-Encoding {encoding!r} is not supported")
    return body


def _basic_key(request: Request) -> str | None:
    """The write key of ``Authorization: Basic base64(key:)``, if the header is there."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError) as exc:
        raise Rejected(401, "invalid_write_key", "the Basic credentials are not base64") from exc
    return decoded.partition(":")[0]


async def _authorise(session: Any, plain: Any) -> KnownKey:
    if not isinstance(plain, str) or not plain:
        raise Rejected(
            401, "missing_write_key", "send the write key as the Basic user or as writeKey"
        )
    key = await run_in_threadpool(check_write_key, session, plain)
    if key is None:
        raise Rejected(401, "invalid_write_key", "the write key is unknown or revoked")
    return key


def _facts(request: Request, rows: list[dict[str, Any]]) -> identities.Facts | None:
    """The identity facts worth a database write: calls that say something, and users this
    process has not recorded yet (a track call of a known user changes nothing)."""
    known: set[str] = request.app.state.usage_known_users
    facts = identities.facts_of(rows)
    facts.users = {u: t for u, t in facts.users.items() if t or u not in known}
    if not (facts.users or facts.groups or facts.aliases or facts.memberships):
        return None
    return facts


def _apply(request: Request, session: Any, key: KnownKey, facts: identities.Facts | None) -> None:
    touched: dict[int, float] = request.app.state.usage_key_touched
    now = utcnow().timestamp()
    touch = now - touched.get(key.id, 0.0) > _TOUCH_EVERY
    if facts is None and not touch:
        return
    # End the read of the key check first: on SQLite a transaction that read before another
    # request wrote cannot start writing (it would fail at once instead of waiting its turn).
    session.commit()
    if facts is not None:
        identities.apply_facts(session, facts)
    if touch:
        touched[key.id] = now
        touch_write_key(session, key.id)
    session.commit()
    if facts is not None:  # remembered only once stored: a failed request is retried whole
        known: set[str] = request.app.state.usage_known_users
        if len(known) > _KNOWN_USERS_CAP:
            known.clear()
        known.update(facts.users)


async def _ingest(request: Request, session: Any, kind: str | None) -> JSONResponse:
    try:
        limit = segment.MAX_EVENT_BYTES if kind else segment.MAX_BATCH_BYTES
        raw = await _read_body(request, limit)
        plain = _basic_key(request)
        # A key in the header is checked before the body is parsed: a stranger learns nothing.
        key = await _authorise(session, plain) if plain is not None else None
        body = segment.parse_json(raw)
        if key is None:
            key = await _authorise(session, body.get("writeKey"))
        received_at = utcnow()
        if kind:
            rows = [segment.to_row(body, kind, received_at=received_at, source=key.name)]
        else:
            rows = segment.batch_rows(body, len(raw), received_at=received_at, source=key.name)
    except Rejected as exc:
        return JSONResponse(exc.as_dict(), status_code=exc.status)
    if rows:
        await event_store(request.app).append_async(rows)
    await run_in_threadpool(_apply, request, session, key, _facts(request, rows))
    return JSONResponse({"success": True})


def _single(kind: str) -> Any:
    async def endpoint(request: Request, session: SessionDep) -> JSONResponse:
        return await _ingest(request, session, kind)

    endpoint.__doc__ = f"Segment {kind} call: one event (≤32 KB)."
    endpoint.__name__ = f"segment_{kind}"
    return endpoint


for _kind in SINGLE:
    router.add_api_route(f"/v1/{_kind}", _single(_kind), methods=["POST"])


@router.post("/v1/batch")
async def segment_batch(request: Request, session: SessionDep) -> JSONResponse:
    """Several events of any type (≤2,500 events, ≤500 KB, each ≤32 KB)."""
    return await _ingest(request, session, None)


@router.post("/v1/import")
async def segment_import(request: Request, session: SessionDep) -> JSONResponse:
    """Historical events, the shape of a batch (their own timestamps are kept)."""
    return await _ingest(request, session, None)
