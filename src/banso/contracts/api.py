"""REST endpoints for contracts, their MRR movements, MRR history and the billing export."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from banso.accounts.service import get_account
from banso.api.deps import (
    Confirm,
    Cursor,
    Limit,
    ReaderDep,
    SessionDep,
    SettingsDep,
    WriterDep,
)
from banso.contracts import service
from banso.contracts.schemas import (
    DB_INT_MAX,
    ContractIn,
    ContractOut,
    ContractPatch,
    ContractStatus,
    MovementIn,
    MovementOut,
)
from banso.errors import InvalidInput
from banso.money import CURRENCY_DIGITS
from banso.settings import Settings

router = APIRouter()


class ContractPage(BaseModel):
    items: list[ContractOut]
    next_cursor: str | None


class MovementPage(BaseModel):
    items: list[MovementOut]
    next_cursor: str | None


class MovementRecorded(BaseModel):
    movement: MovementOut
    contract: ContractOut


class MrrOut(BaseModel):
    as_of: date
    account_id: int | None
    currency: str
    mrr: int


class MrrPoint(BaseModel):
    date: date
    mrr: int


class MrrSeriesOut(BaseModel):
    interval: Literal["month"]
    account_id: int | None
    currency: str
    points: list[MrrPoint]


AccountId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description="Only this account.")]
Currency = Annotated[
    str | None, Query(description="ISO code [default: the workspace currency, BANSO_*].")
]
Month = Annotated[
    str | None,
    Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, e.g. 2026-11 [default: this month]."),
]


def _today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()


def _currency(settings: Settings, currency: str | None) -> str:
    code = (currency or settings.default_currency).upper()
    if code not in CURRENCY_DIGITS:
        raise InvalidInput.one("currency", f"use one of {', '.join(sorted(CURRENCY_DIGITS))}")
    return code


def _twelve_months_to(last: date) -> date:
    """The first day of the month eleven months before ``last``'s: a year of month ends."""
    year, month = divmod(last.year * 12 + last.month - 1 - 11, 12)
    return date(year, month + 1, 1)


def _month(text: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError as exc:
        raise InvalidInput.one("month", f"{text!r} is not a month; use YYYY-MM") from exc


@router.get("/contracts", response_model=ContractPage, tags=["contracts"])
def list_contracts(
    session: SessionDep,
    _: ReaderDep,
    account_id: AccountId = None,
    status: ContractStatus | None = None,
    plan: str | None = None,
    ends_before: Annotated[date | None, Query(description="Term ends before this day.")] = None,
    ends_after: Annotated[date | None, Query(description="Term ends on or after it.")] = None,
    sort: str = "id",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """List contracts; sort by id, start_date, end_date, mrr or updated_at (``-`` = desc)."""
    f = service.ContractFilter(account_id, status, plan, ends_before, ends_after)
    page = service.list_contracts(session, f, sort=sort, cursor=cursor, limit=limit)
    return {"items": service.contracts_out(session, page.items), "next_cursor": page.next_cursor}


@router.post("/contracts", response_model=ContractOut, status_code=201, tags=["contracts"])
def create_contract(data: ContractIn, session: SessionDep, actor: WriterDep) -> ContractOut:
    """Create a contract; its first movement ('new', on start_date) is recorded with it."""
    return service.contract_out(session, service.create_contract(session, actor, data))


@router.get("/contracts/{contract_id}", response_model=ContractOut, tags=["contracts"])
def get_contract(contract_id: int, session: SessionDep, _: ReaderDep) -> ContractOut:
    return service.contract_out(session, service.get_contract(session, contract_id))


@router.patch("/contracts/{contract_id}", response_model=ContractOut, tags=["contracts"])
def update_contract(
    contract_id: int, data: ContractPatch, session: SessionDep, actor: WriterDep
) -> ContractOut:
    """Change terms that carry no MRR. ``version`` must be the one you read, else 409."""
    contract = service.update_contract(session, actor, contract_id, data)
    return service.contract_out(session, contract)


@router.delete("/contracts/{contract_id}", status_code=204, tags=["contracts"])
def delete_contract(
    contract_id: int, session: SessionDep, actor: WriterDep, confirm: Confirm = False
) -> Response:
    """Without ``confirm=true`` nothing is deleted: 409 says what would be. To end a contract,
    record a churn instead; deleting removes it from MRR history."""
    service.delete_contract(session, actor, contract_id, confirm=confirm)
    return Response(status_code=204)


@router.post(
    "/contracts/{contract_id}/movements",
    response_model=MovementRecorded,
    status_code=201,
    tags=["contracts"],
)
def record_movement(
    contract_id: int, data: MovementIn, session: SessionDep, actor: WriterDep
) -> dict[str, Any]:
    """Record a dated MRR change: expansion, contraction (``pause``), renewal, churn,
    reactivation, or 'new' to convert a trial. Dates must not precede the latest movement."""
    movement = service.record_movement(session, actor, contract_id, data)
    contract = service.get_contract(session, contract_id)
    return {
        "movement": service.movement_out(movement),
        "contract": service.contract_out(session, contract),
    }


@router.get("/contracts/{contract_id}/movements", response_model=MovementPage, tags=["contracts"])
def contract_movements(
    contract_id: int,
    session: SessionDep,
    _: ReaderDep,
    sort: str = "effective_date",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """A contract's movements, oldest first (``sort=-effective_date`` for newest first)."""
    service.get_contract(session, contract_id)
    page = service.list_movements(
        session, contract_id=contract_id, sort=sort, cursor=cursor, limit=limit
    )
    return {"items": [service.movement_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.get("/accounts/{account_id}/movements", response_model=MovementPage, tags=["contracts"])
def account_movements(
    account_id: int,
    session: SessionDep,
    _: ReaderDep,
    sort: str = "effective_date",
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Every movement of every contract of an account, oldest first."""
    get_account(session, account_id)
    page = service.list_movements(
        session, account_id=account_id, sort=sort, cursor=cursor, limit=limit
    )
    return {"items": [service.movement_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.get("/mrr", response_model=MrrOut, tags=["mrr"])
def mrr(
    session: SessionDep,
    settings: SettingsDep,
    _: ReaderDep,
    as_of: Annotated[date | None, Query(description="Day [default: today].")] = None,
    account_id: AccountId = None,
    currency: Currency = None,
) -> MrrOut:
    """Total MRR of active contracts on a day, rebuilt from the movements."""
    if account_id is not None:
        get_account(session, account_id)
    day = as_of or _today(settings)
    code = _currency(settings, currency)
    total = service.mrr_on(session, day, account_id, code)
    return MrrOut(as_of=day, account_id=account_id, currency=code, mrr=total)


@router.get("/mrr/series", response_model=MrrSeriesOut, tags=["mrr"])
def mrr_series(
    session: SessionDep,
    settings: SettingsDep,
    _: ReaderDep,
    from_: Annotated[
        date | None, Query(alias="from", description="First month [default: 11 months before to].")
    ] = None,
    to: Annotated[date | None, Query(description="Last month [default: this month].")] = None,
    interval: Literal["month"] = "month",
    account_id: AccountId = None,
    currency: Currency = None,
) -> MrrSeriesOut:
    """MRR at the end of each month from ``from``'s month to ``to``'s month (at most 120 points)."""
    if account_id is not None:
        get_account(session, account_id)
    last = to or _today(settings)
    first = from_ or _twelve_months_to(last)
    code = _currency(settings, currency)
    points = service.mrr_series(session, service.month_ends(first, last), account_id, code)
    return MrrSeriesOut(
        interval=interval,
        account_id=account_id,
        currency=code,
        points=[MrrPoint(date=day, mrr=value) for day, value in points],
    )


@router.get(
    "/billing.csv",
    tags=["billing"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The billing CSV."}},
)
def billing_csv(
    session: SessionDep,
    settings: SettingsDep,
    _: ReaderDep,
    month: Month = None,
    encoding: Literal["utf-8", "cp932"] = "utf-8",
    account_code_system: Annotated[
        str,
        Query(
            pattern=r"^[a-z][a-z0-9_\-]{0,49}$",
            description="External id system whose value fills account_code.",
        ),
    ] = "accounting",
) -> Response:
    """One line per contract active on the month's last day, for an accounting tool.

    UTF-8 with a BOM by default (Excel reads Japanese); ``encoding=cp932`` for Shift_JIS tools.
    A character cp932 cannot hold is a 422 naming the row, never a silent '?'.
    """
    first = _month(month) if month else _today(settings).replace(day=1)
    rows = service.billing_rows(session, first, account_code_system)
    body = service.encode_billing_csv(rows, encoding)
    charset = "utf-8" if encoding == "utf-8" else "windows-31j"
    return Response(
        content=body,
        media_type=f"text/csv; charset={charset}",
        headers={"Content-Disposition": f'attachment; filename="billing-{first:%Y-%m}.csv"'},
    )
