"""Contracts and MRR movements; MRR on any past date is rebuilt from the movements."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.externalids import delete_external_ids, external_ids_of, set_external_ids
from banso.accounts.models import Account
from banso.audit.service import Actor, record, snapshot
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.schemas import ContractIn, ContractOut, ContractPatch, MovementIn, MovementOut
from banso.errors import ConfirmationRequired, Conflict, InvalidInput, NotFound
from banso.listing import Page, SortKey, paginate
from banso.money import format_amount

CONTRACT_SORTS = {
    "id": SortKey(Contract.id),
    "start_date": SortKey(Contract.start_date),
    "end_date": SortKey(Contract.end_date, date(9999, 12, 31)),
    "mrr": SortKey(Contract.mrr),
    "updated_at": SortKey(Contract.updated_at),
}


def get_contract(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
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
            mrr_after=contract.mrr,
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


def _stale(contract: Contract, version: int | None) -> None:
    if version is not None and version != contract.version:
        raise Conflict(
            f"contract {contract.id} was changed by someone else (you read version {version}, "
            f"it is now {contract.version}); reload and apply your change again"
        )


def update_contract(
    session: Session, actor: Actor, contract_id: int, data: ContractPatch
) -> Contract:
    contract = get_contract(session, contract_id)
    _stale(contract, data.version)
    before = _view(session, contract)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if "plan" in changes and changes["plan"] is None:
        raise InvalidInput.one("plan", "cannot be empty")
    if "custom" in changes:
        contract.custom = customfields.validate_custom(
            session, "contract", changes.pop("custom") or {}, contract.custom
        )
    if "external_ids" in changes:
        set_external_ids(session, "contract", contract.id, changes.pop("external_ids") or {})
    if changes.get("end_date") and changes["end_date"] < contract.start_date:
        raise InvalidInput.one("end_date", "is before the contract's start_date")
    for key, value in changes.items():
        setattr(contract, key, value)
    contract.updated_at = datetime.now(contract.updated_at.tzinfo)
    session.flush()
    record(session, actor, "update", "contract", contract.id, before, _view(session, contract))
    return contract


def _next_state(contract: Contract, m: MovementIn) -> tuple[int, str]:
    """Check a movement against the contract's state; return (mrr_after, status_after)."""
    status, mrr = contract.status, contract.mrr
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
    new_mrr = mrr if m.mrr is None else m.mrr
    if m.kind == "expansion" and new_mrr <= mrr:
        raise InvalidInput.one("mrr", f"an expansion must raise MRR above {mrr}")
    if m.kind == "contraction":
        if m.pause:
            return 0 if m.mrr is None else new_mrr, "paused"
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
    _stale(contract, m.version)
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


def _state_as_of(as_of: date) -> Any:
    """Subquery: each contract's last movement on or before ``as_of``."""
    ranked = (
        select(
            ContractMovement.contract_id,
            ContractMovement.account_id,
            ContractMovement.mrr_after,
            ContractMovement.status_after,
            func.row_number()
            .over(
                partition_by=ContractMovement.contract_id,
                order_by=(ContractMovement.effective_date.desc(), ContractMovement.id.desc()),
            )
            .label("rn"),
        )
        .where(ContractMovement.effective_date <= as_of)
        .subquery()
    )
    return ranked


def mrr_by_account(session: Session, as_of: date, currency: str = "JPY") -> dict[int, int]:
    """MRR of every account on ``as_of``, rebuilt from movements in one query."""
    state = _state_as_of(as_of)
    stmt = (
        select(state.c.account_id, func.sum(state.c.mrr_after))
        .join(Contract, Contract.id == state.c.contract_id)
        .where(state.c.rn == 1, state.c.status_after == "active", Contract.currency == currency)
        .group_by(state.c.account_id)
    )
    return {account_id: int(total) for account_id, total in session.execute(stmt)}


def mrr_on(
    session: Session, as_of: date, account_id: int | None = None, currency: str = "JPY"
) -> int:
    state = _state_as_of(as_of)
    stmt = (
        select(func.coalesce(func.sum(state.c.mrr_after), 0))
        .join(Contract, Contract.id == state.c.contract_id)
        .where(state.c.rn == 1, state.c.status_after == "active", Contract.currency == currency)
    )
    if account_id is not None:
        stmt = stmt.where(state.c.account_id == account_id)
    return int(session.scalar(stmt) or 0)


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


def billing_rows(
    session: Session, month: date, account_code_system: str = "accounting"
) -> list[dict[str, Any]]:
    """One line per contract billable in ``month`` (active on its last day), for accounting."""
    from calendar import monthrange

    last_day = month.replace(day=monthrange(month.year, month.month)[1])
    state = _state_as_of(last_day)
    stmt = (
        select(Contract, Account.name, state.c.mrr_after)
        .join(state, and_(state.c.contract_id == Contract.id, state.c.rn == 1))
        .join(Account, Account.id == Contract.account_id)
        .where(state.c.status_after == "active")
        .order_by(Account.name, Contract.id)
    )
    rows = list(session.execute(stmt))
    codes = external_ids_of(session, "account", sorted({c.account_id for c, _, _ in rows}))
    return [
        {
            "billing_month": month.strftime("%Y-%m"),
            "account_id": contract.account_id,
            "account_code": codes.get(contract.account_id, {}).get(account_code_system, ""),
            "account_name": name,
            "contract_id": contract.id,
            "plan": contract.plan,
            "seats": "" if contract.seats is None else contract.seats,
            "amount": format_amount(int(mrr), contract.currency),
            "currency": contract.currency,
            "term_start": contract.start_date.isoformat(),
            "term_end": contract.end_date.isoformat() if contract.end_date else "",
            "status": "active",
        }
        for contract, name, mrr in rows
    ]


def billing_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BILLING_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
