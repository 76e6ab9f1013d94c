"""Contracts and MRR movements; MRR on any past date is rebuilt from the movements."""

from __future__ import annotations

import csv
import io
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from banso.accounts import customfields
from banso.accounts.externalids import delete_external_ids, external_ids_of, set_external_ids
from banso.accounts.models import Account
from banso.audit.service import Actor, record, snapshot
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.schemas import (
    DB_INT_MAX,
    ContractIn,
    ContractOut,
    ContractPatch,
    MovementIn,
    MovementOut,
)
from banso.errors import ConfirmationRequired, Conflict, FieldError, InvalidInput, NotFound
from banso.listing import Page, SortKey, paginate
from banso.money import format_amount

CONTRACT_SORTS = {
    "id": SortKey(Contract.id),
    "start_date": SortKey(Contract.start_date),
    "end_date": SortKey(Contract.end_date, date(9999, 12, 31)),
    "mrr": SortKey(Contract.mrr),
    "updated_at": SortKey(Contract.updated_at),
}


MOVEMENT_SORTS = {"effective_date": SortKey(ContractMovement.effective_date)}


def get_contract(session: Session, contract_id: int) -> Contract:
    # An id no row can have is simply absent (PostgreSQL would refuse to compare it).
    contract = session.get(Contract, contract_id) if 1 <= contract_id <= DB_INT_MAX else None
    if contract is None:
        raise NotFound("contract", contract_id)
    return contract


def contract_out(
    session: Session, contract: Contract, ext: dict[str, str] | None = None
) -> ContractOut:
    if ext is None:
        ext = external_ids_of(session, "contract", [contract.id]).get(contract.id, {})
    return ContractOut.model_validate(
        {
            **snapshot(contract),
            "external_ids": ext,
            "start_date": contract.start_date,
            "end_date": contract.end_date,
            "created_at": contract.created_at,
            "updated_at": contract.updated_at,
        }
    )


def contracts_out(session: Session, contracts: list[Contract]) -> list[ContractOut]:
    ext = external_ids_of(session, "contract", [c.id for c in contracts])
    return [contract_out(session, c, ext.get(c.id, {})) for c in contracts]


def movement_out(movement: ContractMovement) -> MovementOut:
    return MovementOut.model_validate(
        {
            **snapshot(movement),
            "mrr_delta": movement.mrr_delta,
            "effective_date": movement.effective_date,
            "created_at": movement.created_at,
        }
    )


def _view(session: Session, contract: Contract) -> dict[str, Any]:
    return contract_out(session, contract).model_dump(
        mode="json", exclude={"created_at", "updated_at"}
    )


def refresh_account_mrr(session: Session, account_id: int) -> None:
    """Keep ``Account.mrr`` (the list's sortable current MRR) equal to its active contracts."""

    currency = session.info.get("currency", "JPY")
    total = session.scalar(
        select(func.coalesce(func.sum(Contract.mrr), 0)).where(
            Contract.account_id == account_id,
            Contract.status == "active",
            Contract.currency == currency,
        )
    )
    account = session.get(Account, account_id)
    if account is not None and account.mrr != total:
        account.mrr = int(total or 0)


def create_contract(session: Session, actor: Actor, data: ContractIn) -> Contract:
    if session.get(Account, data.account_id) is None:
        raise InvalidInput.one("account_id", f"account {data.account_id} does not exist")
    custom = customfields.validate_custom(session, "contract", data.custom)
    contract = Contract(
        **data.model_dump(exclude={"custom", "external_ids", "reason"}), custom=custom
    )
    session.add(contract)
    session.flush()
    session.add(
        ContractMovement(
            contract_id=contract.id,
            account_id=contract.account_id,
            effective_date=contract.start_date,
            kind="new",
            mrr_before=0,
            # A trial earns nothing until it converts (its own 'new' then adds the MRR), so the
            # deltas of a contract's movements always add up to what it earns now.
            mrr_after=contract.mrr if contract.status == "active" else 0,
            seats_before=None,
            seats_after=contract.seats,
            status_after=contract.status,
            plan_after=contract.plan,
            reason=data.reason,
            actor=actor.label,
        )
    )
    if data.external_ids:
        set_external_ids(session, "contract", contract.id, data.external_ids)
    refresh_account_mrr(session, contract.account_id)
    session.flush()
    record(session, actor, "create", "contract", contract.id, None, _view(session, contract))
    return contract


def _stale(session: Session, contract: Contract, version: int | None) -> None:
    if version is not None and version != contract.version:
        raise Conflict(
            f"contract {contract.id} was changed by someone else (you read version {version}, "
            f"it is now {contract.version}); reload and apply your change again",
            _view(session, contract),
        )


def _save(session: Session, contract_id: int) -> None:
    """Write now, so a writer who lost a race to another one gets a 409, not a server error.

    Two writers can both pass :func:`_stale`; the versioned UPDATE then matches no row for the
    second one.
    """
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(
            f"contract {contract_id} was changed by someone else while you saved; "
            "reload it and apply your change again"
        ) from exc


def update_contract(
    session: Session, actor: Actor, contract_id: int, data: ContractPatch
) -> Contract:
    contract = get_contract(session, contract_id)
    _stale(session, contract, data.version)
    before = _view(session, contract)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if not changes:
        return contract  # nothing to change: no new version, no audit entry
    for required in ("plan", "auto_renew"):
        if required in changes and changes[required] is None:
            raise InvalidInput.one(required, "cannot be empty; leave it out to keep it")
    if changes.get("end_date") and changes["end_date"] < contract.start_date:
        raise InvalidInput.one("end_date", "is before the contract's start_date")
    # Validate and write the side tables before touching the contract, so its versioned
    # UPDATE happens only in _save (where a lost race becomes a 409).
    if "custom" in changes:
        changes["custom"] = customfields.validate_custom(
            session, "contract", changes["custom"] or {}, contract.custom
        )
    if "external_ids" in changes:
        set_external_ids(session, "contract", contract.id, changes.pop("external_ids") or {})
    for key, value in changes.items():
        setattr(contract, key, value)
    contract.updated_at = datetime.now(contract.updated_at.tzinfo)
    _save(session, contract.id)
    record(session, actor, "update", "contract", contract.id, before, _view(session, contract))
    return contract


def _check_shape(contract: Contract, m: MovementIn) -> None:
    """Refuse fields that a movement of this kind would otherwise silently ignore."""
    if m.pause and m.kind != "contraction":
        raise InvalidInput.one("pause", "only a contraction can pause a contract")
    if m.kind == "churn" and m.mrr:
        raise InvalidInput.one("mrr", "a churn sets MRR to 0; leave mrr out")
    if m.pause and m.mrr:
        raise InvalidInput.one(
            "mrr", "a paused contract has no MRR; leave mrr out, or lower it without pausing"
        )
    if m.end_date is not None and m.end_date < max(contract.start_date, m.effective_date):
        raise InvalidInput.one(
            "end_date",
            f"is before the movement's date {m.effective_date.isoformat()} "
            f"or the contract's start {contract.start_date.isoformat()}",
        )


def _next_state(contract: Contract, m: MovementIn) -> tuple[int, str]:
    """Check a movement against the contract's state; return (mrr_after, status_after)."""
    status, mrr = contract.status, contract.mrr
    _check_shape(contract, m)
    if m.kind == "churn":
        if status == "churned":
            raise InvalidInput.one("kind", "the contract has already churned")
        return 0, "churned"
    if m.kind == "reactivation":
        if status not in ("churned", "paused"):
            raise InvalidInput.one(
                "kind", f"only a churned or paused contract can be reactivated (it is {status})"
            )
        if not m.mrr:
            raise InvalidInput.one("mrr", "a reactivation needs the MRR it comes back with")
        return m.mrr, "active"
    if status in ("churned", "paused"):
        raise InvalidInput.one("kind", f"the contract is {status}; record a reactivation first")
    if m.kind == "new":
        if status != "trial":
            raise InvalidInput.one(
                "kind", "'new' is only for converting a trial; the contract is active"
            )
        if m.mrr is None:
            raise InvalidInput.one("mrr", "converting a trial needs its MRR")
        return m.mrr, "active"
    if status == "trial":
        # A trial earns no MRR, so an expansion or contraction of it would be a fiction.
        raise InvalidInput.one(
            "kind", "the contract is a trial; convert it with kind 'new' (or record a churn)"
        )
    new_mrr = mrr if m.mrr is None else m.mrr
    if m.kind == "expansion" and new_mrr <= mrr:
        raise InvalidInput.one("mrr", f"an expansion must raise MRR above {mrr}")
    if m.kind == "contraction":
        if m.pause:
            return 0, "paused"
        if new_mrr >= mrr:
            raise InvalidInput.one("mrr", f"a contraction must lower MRR below {mrr}")
        if new_mrr == 0:
            raise InvalidInput.one("mrr", "a contraction to 0 is a churn; record kind 'churn'")
    if m.kind == "renewal" and m.end_date is None:
        raise InvalidInput.one("end_date", "a renewal needs the new term end")
    return new_mrr, status


def record_movement(
    session: Session, actor: Actor, contract_id: int, m: MovementIn
) -> ContractMovement:
    """Apply a dated change to a contract and keep it as history."""
    contract = get_contract(session, contract_id)
    _stale(session, contract, m.version)
    latest = session.scalar(
        select(func.max(ContractMovement.effective_date)).where(
            ContractMovement.contract_id == contract_id
        )
    )
    if latest is not None and m.effective_date < latest:
        raise InvalidInput.one(
            "effective_date",
            "movements are recorded in date order; "
            f"this contract's latest is on {latest.isoformat()}",
        )
    before = _view(session, contract)
    mrr_after, status_after = _next_state(contract, m)
    movement = ContractMovement(
        contract_id=contract.id,
        account_id=contract.account_id,
        effective_date=m.effective_date,
        kind=m.kind,
        mrr_before=contract.mrr if contract.status == "active" else 0,
        mrr_after=mrr_after,
        seats_before=contract.seats,
        seats_after=contract.seats if m.seats is None else m.seats,
        status_after=status_after,
        plan_after=m.plan or contract.plan,
        reason=m.reason,
        actor=actor.label,
    )
    session.add(movement)
    contract.mrr, contract.status = mrr_after, status_after
    contract.seats = movement.seats_after
    contract.plan = movement.plan_after
    if m.end_date is not None:
        contract.end_date = m.end_date
    if m.kind == "churn" and (contract.end_date is None or contract.end_date > m.effective_date):
        contract.end_date = m.effective_date
    contract.updated_at = datetime.now(contract.updated_at.tzinfo)
    _save(session, contract.id)
    refresh_account_mrr(session, contract.account_id)
    session.flush()
    record(
        session,
        actor,
        "update",
        "contract",
        contract.id,
        before,
        _view(session, contract) | {"movement": m.kind},
    )
    return movement


def delete_contract(session: Session, actor: Actor, contract_id: int, *, confirm: bool) -> None:
    contract = get_contract(session, contract_id)
    if not confirm:
        count = session.scalar(
            select(func.count()).where(ContractMovement.contract_id == contract_id)
        )
        raise ConfirmationRequired(
            f"deleting contract {contract_id} also deletes its {count} movements and removes it "
            "from MRR history. To end a contract, record a churn instead. Confirm to delete.",
            {"contracts": 1, "movements": count or 0},
        )
    before = _view(session, contract)
    before["movements"] = [
        movement_out(m).model_dump(mode="json") for m in movements_of(session, contract_id)
    ]
    account_id = contract.account_id
    delete_external_ids(session, "contract", [contract_id])
    session.delete(contract)
    session.flush()
    refresh_account_mrr(session, account_id)
    record(session, actor, "delete", "contract", contract_id, before, None)
    session.flush()


def movements_of(session: Session, contract_id: int) -> list[ContractMovement]:
    stmt = (
        select(ContractMovement)
        .where(ContractMovement.contract_id == contract_id)
        .order_by(ContractMovement.effective_date, ContractMovement.id)
    )
    return list(session.scalars(stmt))


def account_movements(session: Session, account_id: int) -> list[ContractMovement]:
    stmt = (
        select(ContractMovement)
        .where(ContractMovement.account_id == account_id)
        .order_by(ContractMovement.effective_date, ContractMovement.id)
    )
    return list(session.scalars(stmt))


def list_movements(
    session: Session,
    *,
    contract_id: int | None = None,
    account_id: int | None = None,
    sort: str = "effective_date",
    cursor: str | None = None,
    limit: int = 100,
) -> Page[ContractMovement]:
    """One page of a contract's or an account's movements, oldest first unless sorted ``-``."""
    stmt = select(ContractMovement)
    if contract_id is not None:
        stmt = stmt.where(ContractMovement.contract_id == contract_id)
    if account_id is not None:
        stmt = stmt.where(ContractMovement.account_id == account_id)
    return paginate(
        session,
        stmt,
        id_column=ContractMovement.id,
        sortable=MOVEMENT_SORTS,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


def contract_states(as_of: date, account_id: int | None = None) -> Any:
    """Subquery: each contract's last movement on or before ``as_of``."""
    stmt = select(
        ContractMovement.contract_id,
        ContractMovement.account_id,
        ContractMovement.mrr_after,
        ContractMovement.status_after,
        ContractMovement.plan_after,
        ContractMovement.seats_after,
        func.row_number()
        .over(
            partition_by=ContractMovement.contract_id,
            order_by=(ContractMovement.effective_date.desc(), ContractMovement.id.desc()),
        )
        .label("rn"),
    ).where(ContractMovement.effective_date <= as_of)
    if account_id is not None:
        stmt = stmt.where(ContractMovement.account_id == account_id)
    return stmt.subquery()


def mrr_by_account(session: Session, as_of: date, currency: str = "JPY") -> dict[int, int]:
    """MRR of every account on ``as_of``, rebuilt from movements in one query."""
    state = contract_states(as_of)
    stmt = (
        select(state.c.account_id, func.sum(state.c.mrr_after))
        .join(Contract, Contract.id == state.c.contract_id)
        .where(state.c.rn == 1, state.c.status_after == "active", Contract.currency == currency)
        .group_by(state.c.account_id)
    )
    return {account_id: int(total) for account_id, total in session.execute(stmt)}


def seats_by_account(session: Session, as_of: date) -> dict[int, int]:
    """Seats of each account's contracts that are active on ``as_of`` (accounts with none or
    with no seat count absent), rebuilt from movements in one query."""
    state = contract_states(as_of)
    stmt = (
        select(state.c.account_id, func.sum(state.c.seats_after))
        .where(state.c.rn == 1, state.c.status_after == "active", state.c.seats_after.is_not(None))
        .group_by(state.c.account_id)
    )
    return {account_id: int(seats) for account_id, seats in session.execute(stmt)}


def mrr_on(
    session: Session, as_of: date, account_id: int | None = None, currency: str = "JPY"
) -> int:
    """Total MRR on ``as_of`` (of one account if given), rebuilt from movements."""
    state = contract_states(as_of, account_id)
    stmt = (
        select(func.coalesce(func.sum(state.c.mrr_after), 0))
        .join(Contract, Contract.id == state.c.contract_id)
        .where(state.c.rn == 1, state.c.status_after == "active", Contract.currency == currency)
    )
    return int(session.scalar(stmt) or 0)


# SQLite refuses a compound SELECT of more than 500 parts; the points table is one.
_POINTS_PER_QUERY = 400
# A monthly series is for charts and reports: ten years of month ends is plenty.
MAX_SERIES_POINTS = 120


def month_ends(start: date, end: date) -> list[date]:
    """The last day of every month from ``start``'s month to ``end``'s month, inclusive."""
    if end < start:
        raise InvalidInput.one("to", f"is before from ({start.isoformat()})")
    count = (end.year - start.year) * 12 + end.month - start.month + 1
    if count > MAX_SERIES_POINTS:
        raise InvalidInput.one(
            "from",
            f"the range spans {count} months, but a series has at most {MAX_SERIES_POINTS} "
            "points (one per month end); move from or to closer together",
        )
    ends = []
    for offset in range(count):
        year, month = divmod(start.month - 1 + offset, 12)
        ends.append(_month_end(date(start.year + year, month + 1, 1)))
    return ends


def _month_end(day: date) -> date:
    return day.replace(day=monthrange(day.year, day.month)[1])


def _spans(account_id: int | None, currency: str) -> Any:
    """Subquery: each movement's state with the date it stops holding (the next movement's)."""
    next_date = (
        func.lead(ContractMovement.effective_date)
        .over(
            partition_by=ContractMovement.contract_id,
            order_by=(ContractMovement.effective_date, ContractMovement.id),
        )
        .label("until")
    )
    stmt = (
        select(
            ContractMovement.mrr_after,
            ContractMovement.status_after,
            ContractMovement.effective_date.label("since"),
            next_date,
        )
        .join(Contract, Contract.id == ContractMovement.contract_id)
        .where(Contract.currency == currency)
    )
    if account_id is not None:
        stmt = stmt.where(ContractMovement.account_id == account_id)
    return stmt.subquery()


def _series_chunk(
    session: Session, points: list[date], account_id: int | None, currency: str
) -> dict[date, int]:
    parts = [select(literal(point, Date()).label("point")) for point in points]
    table = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    spans = _spans(account_id, currency)
    # A state holds from its movement's date until (not including) the next movement's date,
    # so several movements on one day leave only the last one in force.
    stmt = (
        select(table.c.point, func.sum(spans.c.mrr_after))
        .join(
            spans,
            and_(
                spans.c.since <= table.c.point,
                or_(spans.c.until.is_(None), spans.c.until > table.c.point),
            ),
        )
        .where(spans.c.status_after == "active")
        .group_by(table.c.point)
    )
    return {_as_date(point): int(total) for point, total in session.execute(stmt)}


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def mrr_series(
    session: Session, points: list[date], account_id: int | None = None, currency: str = "JPY"
) -> list[tuple[date, int]]:
    """MRR on each of ``points``, one set-based query per 400 points (not one per point)."""
    totals: dict[date, int] = {}
    for start in range(0, len(points), _POINTS_PER_QUERY):
        chunk = points[start : start + _POINTS_PER_QUERY]
        totals.update(_series_chunk(session, chunk, account_id, currency))
    return [(point, totals.get(point, 0)) for point in points]


@dataclass
class ContractFilter:
    account_id: int | None = None
    status: str | None = None
    plan: str | None = None
    ends_before: date | None = None
    ends_after: date | None = None


def list_contracts(
    session: Session,
    f: ContractFilter,
    *,
    sort: str = "id",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Contract]:
    if f.plan is not None and "\x00" in f.plan:
        raise InvalidInput.one("plan", "contains a NUL character (\\x00); remove it")
    conditions = []
    if f.account_id is not None:
        conditions.append(Contract.account_id == f.account_id)
    if f.status is not None:
        conditions.append(Contract.status == f.status)
    if f.plan is not None:
        conditions.append(Contract.plan == f.plan)
    if f.ends_before is not None:
        conditions.append(Contract.end_date < f.ends_before)
    if f.ends_after is not None:
        conditions.append(Contract.end_date >= f.ends_after)
    stmt = select(Contract).where(and_(True, *conditions))
    return paginate(
        session,
        stmt,
        id_column=Contract.id,
        sortable=CONTRACT_SORTS,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


BILLING_COLUMNS = (
    "billing_month",
    "account_id",
    "account_code",
    "account_name",
    "contract_id",
    "plan",
    "seats",
    "amount",
    "currency",
    "term_start",
    "term_end",
    "status",
)
# Columns holding names people typed, which a spreadsheet could take for a formula.
_TEXT_COLUMNS = ("account_code", "account_name", "plan")
BILLING_ENCODINGS = ("utf-8", "cp932")


def billing_rows(
    session: Session, month: date, account_code_system: str = "accounting"
) -> list[dict[str, Any]]:
    """One line per contract billable in ``month`` (active on its last day), for accounting.

    Plan, seats and amount are the ones in force on that day, so a past month's export is the
    same whenever it is run. Lines are ordered by account name, then contract.
    """
    last_day = _month_end(month)
    state = contract_states(last_day)
    stmt = (
        select(Contract, Account.name, state.c.mrr_after, state.c.plan_after, state.c.seats_after)
        .join(state, and_(state.c.contract_id == Contract.id, state.c.rn == 1))
        .join(Account, Account.id == Contract.account_id)
        .where(state.c.status_after == "active")
    )
    # Sorted here, by code point: database collations differ, the file must not.
    rows = sorted(session.execute(stmt), key=lambda row: (row[1], row[0].id))
    codes = external_ids_of(session, "account", sorted({row[0].account_id for row in rows}))
    return [
        {
            "billing_month": month.strftime("%Y-%m"),
            "account_id": contract.account_id,
            "account_code": codes.get(contract.account_id, {}).get(account_code_system, ""),
            "account_name": name,
            "contract_id": contract.id,
            "plan": plan,
            "seats": "" if seats is None else seats,
            "amount": format_amount(int(mrr), contract.currency),
            "currency": contract.currency,
            "term_start": contract.start_date.isoformat(),
            "term_end": contract.end_date.isoformat() if contract.end_date else "",
            "status": "active",
        }
        for contract, name, mrr, plan, seats in rows
    ]


def _no_formula(value: Any) -> Any:
    """Keep a spreadsheet from running a cell as a formula (CSV injection), per OWASP."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def billing_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BILLING_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: _no_formula(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


# JIS X 0208's dash is U+2015 in cp932; text typed on a Mac often carries U+2014 instead.
_CP932_SAME_CHARACTER = str.maketrans({"\u2014": "\u2015"})


def _cp932_problems(rows: list[dict[str, Any]]) -> list[FieldError]:
    """Every cell that cp932 cannot hold, named by row, contract and column."""
    problems = []
    for number, row in enumerate(rows, start=1):
        for column in _TEXT_COLUMNS:
            text = str(row[column]).translate(_CP932_SAME_CHARACTER)
            try:
                text.encode("cp932")
            except UnicodeEncodeError as exc:
                bad = exc.object[exc.start : exc.end]
                chars = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad)
                problems.append(
                    FieldError(
                        f"row {number}",
                        f"{column} of contract {row['contract_id']} ({row[column]!r}, "
                        f"CSV line {number + 1}) contains {chars}, which Shift_JIS (cp932) "
                        "cannot hold; change that text or export with encoding utf-8",
                    )
                )
    return problems


def encode_billing_csv(rows: list[dict[str, Any]], encoding: str = "utf-8") -> bytes:
    """The billing CSV as bytes: UTF-8 with a BOM (so Excel reads Japanese) or cp932.

    A character cp932 cannot hold is refused with its row, never replaced by '?'.
    """
    if encoding not in BILLING_ENCODINGS:
        raise InvalidInput.one("encoding", f"use one of {', '.join(BILLING_ENCODINGS)}")
    text = billing_csv(rows)
    if encoding == "utf-8":
        return text.encode("utf-8-sig")
    problems = _cp932_problems(rows)
    if problems:
        raise InvalidInput(problems)
    return text.translate(_CP932_SAME_CHARACTER).encode("cp932")
