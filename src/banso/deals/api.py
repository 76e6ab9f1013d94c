"""REST endpoints for deals (inquiries), winning them, the pipeline and the lost reasons."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from banso.api.deps import (
    AdminDep,
    Confirm,
    Cursor,
    Limit,
    ReaderDep,
    SessionDep,
    WriterDep,
    custom_filters,
)
from banso.deals import service
from banso.deals.schemas import (
    DealIn,
    DealOut,
    DealPatch,
    ReasonIn,
    ReasonOut,
    ReasonPatch,
    ReorderIn,
    StageIn,
    StageOut,
    StagePatch,
    WinIn,
    WinOut,
)

router = APIRouter()


class DealPage(BaseModel):
    items: list[DealOut]
    next_cursor: str | None


@router.get("/deals", response_model=DealPage, tags=["deals"])
def list_deals(
    request: Request,
    session: SessionDep,
    _: ReaderDep,
    stage: str | None = None,
    outcome: str | None = None,
    source_channel: str | None = None,
    company_size: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
    lost_reason_key: str | None = None,
    inquiry_from: date | None = None,
    inquiry_to: date | None = None,
    q: Annotated[str | None, Query(description="Search title and company name.")] = None,
    sort: Annotated[str, Query(description="id, title, stage, inquiry_date, budget...; -desc")] = (
        "-id"
    ),
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """List deals. Filter on any field (custom ones as ``custom.<key>=value``), page with cursor."""
    f = service.DealFilter(
        stage=stage,
        outcome=outcome,
        source_channel=source_channel,
        company_size=company_size,
        owner_id=owner_id,
        account_id=account_id,
        lost_reason_key=lost_reason_key,
        inquiry_from=inquiry_from,
        inquiry_to=inquiry_to,
        q=q,
        custom=custom_filters(request),
    )
    page = service.list_deals(session, f, sort=sort, cursor=cursor, limit=limit)
    return {"items": service.deals_out(session, page.items), "next_cursor": page.next_cursor}


@router.post("/deals", response_model=DealOut, status_code=201, tags=["deals"])
def create_deal(data: DealIn, session: SessionDep, actor: WriterDep) -> DealOut:
    """Record an inquiry; without ``stage_key`` it starts in the pipeline's first stage."""
    return service.deal_out(session, service.create_deal(session, actor, data))


@router.get("/deals/{deal_id}", response_model=DealOut, tags=["deals"])
def get_deal(deal_id: int, session: SessionDep, _: ReaderDep) -> DealOut:
    return service.deal_out(session, service.get_deal(session, deal_id))


@router.patch("/deals/{deal_id}", response_model=DealOut, tags=["deals"])
def update_deal(deal_id: int, data: DealPatch, session: SessionDep, actor: WriterDep) -> DealOut:
    """Change the fields sent. ``version`` must be the one you read, else 409 with the current.

    Moving to a lost or archived stage needs a ``lost_reason_key`` of that kind."""
    return service.deal_out(session, service.update_deal(session, actor, deal_id, data))


@router.delete("/deals/{deal_id}", status_code=204, tags=["deals"])
def delete_deal(
    deal_id: int, session: SessionDep, actor: WriterDep, confirm: Confirm = False
) -> Response:
    """Without ``confirm=true`` nothing is deleted: 409 says what would be."""
    service.delete_deal(session, actor, deal_id, confirm=confirm)
    return Response(status_code=204)


@router.post("/deals/{deal_id}/win", response_model=WinOut, tags=["deals"])
def win_deal(deal_id: int, data: WinIn, session: SessionDep, actor: WriterDep) -> WinOut:
    """Win the deal: link (``account_id``) or create (``company_name``) the account, start
    its first contract and move the deal to the won stage, all or nothing."""
    result = service.win_deal(session, actor, deal_id, data)
    return WinOut(
        deal=service.deal_out(session, result.deal),
        account_id=result.account_id,
        account_created=result.account_created,
        contract_id=result.contract_id,
    )


# ------------------------------------------------------------------ pipeline stages


@router.get("/pipeline-stages", response_model=list[StageOut], tags=["pipeline"])
def list_stages(session: SessionDep, _: ReaderDep) -> Any:
    return service.list_stages(session)


@router.post("/pipeline-stages", response_model=StageOut, status_code=201, tags=["pipeline"])
def create_stage(data: StageIn, session: SessionDep, actor: AdminDep) -> Any:
    return service.create_stage(session, actor, data)


@router.post("/pipeline-stages/reorder", response_model=list[StageOut], tags=["pipeline"])
def reorder_stages(data: ReorderIn, session: SessionDep, actor: AdminDep) -> Any:
    """Send every stage key in the new order."""
    return service.reorder_stages(session, actor, data.keys)


@router.patch("/pipeline-stages/{key}", response_model=StageOut, tags=["pipeline"])
def update_stage(key: str, data: StagePatch, session: SessionDep, actor: AdminDep) -> Any:
    return service.update_stage(session, actor, key, data)


@router.delete("/pipeline-stages/{key}", status_code=204, tags=["pipeline"])
def delete_stage(key: str, session: SessionDep, actor: AdminDep) -> Response:
    """Refused (409) while deals are in the stage, or for the only won stage."""
    service.delete_stage(session, actor, key)
    return Response(status_code=204)


# ------------------------------------------------------------------ lost reasons


@router.get("/lost-reasons", response_model=list[ReasonOut], tags=["pipeline"])
def list_reasons(session: SessionDep, _: ReaderDep, include_inactive: bool = True) -> Any:
    return service.list_reasons(session, include_inactive=include_inactive)


@router.post("/lost-reasons", response_model=ReasonOut, status_code=201, tags=["pipeline"])
def create_reason(data: ReasonIn, session: SessionDep, actor: AdminDep) -> Any:
    return service.create_reason(session, actor, data)


@router.post("/lost-reasons/reorder", response_model=list[ReasonOut], tags=["pipeline"])
def reorder_reasons(data: ReorderIn, session: SessionDep, actor: AdminDep) -> Any:
    """Send every reason key in the new order."""
    return service.reorder_reasons(session, actor, data.keys)


@router.patch("/lost-reasons/{key}", response_model=ReasonOut, tags=["pipeline"])
def update_reason(key: str, data: ReasonPatch, session: SessionDep, actor: AdminDep) -> Any:
    return service.update_reason(session, actor, key, data)


@router.delete("/lost-reasons/{key}", status_code=204, tags=["pipeline"])
def delete_reason(key: str, session: SessionDep, actor: AdminDep) -> Response:
    """Refused (409) while deals give the reason; deactivate it instead."""
    service.delete_reason(session, actor, key)
    return Response(status_code=204)
