"""REST endpoints: metric definitions (admins change them) and an account's metric values."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel

from banso.accounts.service import get_account
from banso.api.deps import AdminDep, ReaderDep, SessionDep
from banso.errors import InvalidInput
from banso.metrics import service
from banso.metrics.definitions import MetricDefinition, load_yaml, parse_definitions

router = APIRouter(tags=["metrics"])


class PointOut(BaseModel):
    as_of: date
    value: float | None


class SeriesOut(BaseModel):
    account_id: int
    since: date
    series: dict[str, list[PointOut]]


class LatestOut(BaseModel):
    key: str
    name: str
    unit: str
    as_of: date
    value: float | None


@router.get("/metrics", response_model=list[MetricDefinition])
def list_metrics(session: SessionDep, _actor: ReaderDep) -> list[MetricDefinition]:
    return service.definitions(session)


@router.get("/metrics/{key}", response_model=MetricDefinition)
def show_metric(key: str, session: SessionDep, _actor: ReaderDep) -> MetricDefinition:
    return service.get_definition(session, key)


@router.put("/metrics", response_model=list[MetricDefinition])
def save_metrics(
    session: SessionDep, actor: AdminDep, body: Annotated[list[dict[str, object]], Body()]
) -> list[MetricDefinition]:
    """Add or replace metrics by key (JSON list); all or nothing."""
    return service.save_definitions(session, actor, parse_definitions(body))


@router.post("/metrics/import", response_model=list[MetricDefinition])
def import_metrics(
    session: SessionDep, actor: AdminDep, body: Annotated[str, Body(media_type="application/yaml")]
) -> list[MetricDefinition]:
    """The same from YAML, as `banso metrics import` reads it."""
    return service.save_definitions(session, actor, load_yaml(body, "body"))


@router.delete("/metrics/{key}", status_code=204)
def delete_metric(key: str, session: SessionDep, actor: AdminDep) -> Response:
    service.delete_definition(session, actor, key)
    return Response(status_code=204)


@router.get("/accounts/{account_id}/metrics", response_model=list[LatestOut])
def account_latest(account_id: int, session: SessionDep, _actor: ReaderDep) -> list[LatestOut]:
    get_account(session, account_id)
    return [LatestOut(**v.__dict__) for v in service.latest(session, account_id)]


@router.get("/accounts/{account_id}/metrics/series", response_model=SeriesOut)
def account_series(
    account_id: int,
    session: SessionDep,
    _actor: ReaderDep,
    keys: Annotated[list[str], Query(min_length=1, description="Metric keys (repeat).")],
    since: Annotated[date | None, Query(description="First date [default: 90 days ago].")] = None,
) -> SeriesOut:
    get_account(session, account_id)
    known = {d.key for d in service.definitions(session)}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise InvalidInput.one("keys", f"unknown metric(s): {', '.join(unknown)}")
    start = since or date.today() - timedelta(days=90)
    found = service.series(session, account_id, keys, start)
    return SeriesOut(
        account_id=account_id,
        since=start,
        series={k: [PointOut(as_of=p.as_of, value=p.value) for p in v] for k, v in found.items()},
    )
