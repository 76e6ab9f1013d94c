"""Commands for contracts, their MRR movements, MRR on any date and the billing export."""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich import box
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.cli_support import console, err_console, handles_errors, open_session, settings, today
from banso.errors import FieldError, InvalidInput
from banso.money import CURRENCY_DIGITS

M = TypeVar("M", bound=BaseModel)

contracts_app = typer.Typer(
    help="Contracts and their MRR movements (new, expansion, contraction, renewal, churn, ...).",
    no_args_is_help=True,
)
billing_app = typer.Typer(help="Billing data for the accounting tool.", no_args_is_help=True)

Day = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], show_default=False)]


def register(app: typer.Typer) -> None:
    """Add `contracts`, `mrr` and `billing` to the root `banso` app."""
    app.add_typer(contracts_app, name="contracts")
    app.add_typer(billing_app, name="billing")
    app.command("mrr")(mrr)


# ------------------------------------------------------------------ helpers


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _money(minor: int, currency: str) -> str:
    """``1234500`` JPY → ``¥1,234,500``; ``1250`` USD → ``USD 12.50``, for reading at a glance."""
    digits = CURRENCY_DIGITS.get(currency, 0)
    sign = "-" if minor < 0 else ""
    text = f"{Decimal(abs(minor)).scaleb(-digits):,.{digits}f}"
    return f"{sign}¥{text}" if currency == "JPY" else f"{sign}{currency} {text}"


def _validated(model: type[M], **data: Any) -> M:
    """Build ``model`` from options, turning validation errors into a readable table."""
    try:
        return model(**{k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise InvalidInput(
            [
                FieldError(".".join(str(p) for p in err["loc"]) or "input", err["msg"])
                for err in exc.errors()
            ]
        ) from exc


def _account_names(session: Session, account_ids: list[int]) -> dict[int, str]:
    from banso.accounts.models import Account

    if not account_ids:
        return {}
    stmt = select(Account.id, Account.name).where(Account.id.in_(set(account_ids)))
    return {account_id: name for account_id, name in session.execute(stmt)}


# Columns never cut: a truncated amount or date reads as a different one. Names wrap instead.
KEEP = frozenset({"id", "MRR", "change", "seats", "ends", "date", "kind", "status"})
_RIGHT = frozenset({"id", "MRR", "change", "seats"})


def _table(*headers: str, whole: frozenset[str], title: str | None = None) -> Table:
    """A table that fits 80 columns: no vertical rules, names wrap, figures stay whole."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for header in headers:
        table.add_column(
            header,
            no_wrap=header in whole,
            justify="right" if header in _RIGHT else "left",
            overflow="fold",
            min_width=None if header in whole else 8,
        )
    return table


# ------------------------------------------------------------------ contracts


@contracts_app.command("list")
@handles_errors
def contracts_list(
    account: Annotated[int | None, typer.Option(help="Only this account's contracts.")] = None,
    status: Annotated[str | None, typer.Option(help="trial, active, paused or churned.")] = None,
    plan: Annotated[str | None, typer.Option(help="Only this plan.")] = None,
    ends_before: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Term ends before this day.")
    ] = None,
    ends_after: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Term ends on or after it.")
    ] = None,
    sort: Annotated[str, typer.Option(help="id, start_date, end_date, mrr, updated_at; -desc.")] = (
        "id"
    ),
    limit: Annotated[int, typer.Option(min=1, max=500, help="Rows to show.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Continue where a list stopped.")] = None,
) -> None:
    """List contracts with their current MRR."""
    from banso.contracts import service

    if status is not None and status not in ("trial", "active", "paused", "churned"):
        raise InvalidInput.one("--status", "use trial, active, paused or churned")
    f = service.ContractFilter(account, status, plan, _day(ends_before), _day(ends_after))
    with open_session() as session:
        page = service.list_contracts(session, f, sort=sort, cursor=cursor, limit=limit)
        names = _account_names(session, [c.account_id for c in page.items])
        table = _table("id", "account", "plan", "status", "MRR", "seats", "ends", whole=KEEP)
        for c in page.items:
            table.add_row(
                str(c.id),
                f"{names.get(c.account_id, '')} ({c.account_id})",
                c.plan,
                c.status,
                _money(c.mrr, c.currency),
                "" if c.seats is None else str(c.seats),
                c.end_date.isoformat() if c.end_date else "",
            )
        console.print(table)
        if page.next_cursor:
            console.print(f"More: --cursor {page.next_cursor}", highlight=False, soft_wrap=True)


@contracts_app.command("show")
@handles_errors
def contracts_show(
    contract_id: Annotated[int, typer.Argument(help="Contract id from `contracts list`.")],
) -> None:
    """Show a contract and its movement history."""
    from banso.contracts import service

    with open_session() as session:
        contract = service.get_contract(session, contract_id)
        out = service.contract_out(session, contract)
        name = _account_names(session, [contract.account_id]).get(contract.account_id, "")
        details = Table.grid(padding=(0, 2))
        for label, value in (
            ("account", f"{name} ({out.account_id})"),
            ("plan", out.plan),
            ("status", out.status),
            ("MRR", _money(out.mrr, out.currency)),
            ("seats", "" if out.seats is None else str(out.seats)),
            ("term", f"{out.start_date} – {out.end_date or 'open'}"),
            ("auto-renew", "yes" if out.auto_renew else "no"),
            ("external ids", ", ".join(f"{k}={v}" for k, v in out.external_ids.items())),
            ("version", str(out.version)),
        ):
            details.add_row(f"[bold]{label}[/]", value)
        console.print(f"[bold]Contract {out.id}[/]")
        console.print(details)
        console.print(_movement_table(service.movements_of(session, contract_id), out.currency))


def _movement_label(kind: str, status_after: str) -> str:
    """The words people use: a contraction that pauses is a pause, a 'new' trial a trial."""
    if kind == "contraction" and status_after == "paused":
        return "pause"
    if kind == "new" and status_after == "trial":
        return "trial"
    return kind


def _movement_table(movements: list[Any], currency: str) -> Table:
    table = _table(
        "date", "kind", "MRR", "change", "seats", "plan", "reason", whole=KEEP, title="Movements"
    )
    for m in movements:
        delta = m.mrr_after - m.mrr_before
        table.add_row(
            m.effective_date.isoformat(),
            _movement_label(m.kind, m.status_after),
            _money(m.mrr_after, currency),
            f"+{_money(delta, currency)}" if delta > 0 else _money(delta, currency),
            "" if m.seats_after is None else str(m.seats_after),
            m.plan_after,
            m.reason or "",
        )
    return table


@contracts_app.command("move")
@handles_errors
def contracts_move(
    contract_id: Annotated[int, typer.Argument(help="Contract id from `contracts list`.")],
    kind: Annotated[
        str,
        typer.Option(
            help="expansion, contraction, renewal, churn, reactivation, or new (trial → paid)."
        ),
    ],
    mrr: Annotated[
        int | None,
        typer.Option(help="MRR from that day on, in minor units (yen); churn and pause set 0."),
    ] = None,
    on: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="Effective day [default: today]."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the history.")] = None,
    seats: Annotated[int | None, typer.Option(help="Seats from that day on.")] = None,
    plan: Annotated[str | None, typer.Option(help="Plan from that day on.")] = None,
    end_date: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="New term end (renewals).")
    ] = None,
    pause: Annotated[bool, typer.Option(help="With --kind contraction: pause it.")] = False,
) -> None:
    """Record a dated MRR movement on a contract."""
    from banso.audit.service import CLI
    from banso.contracts import service
    from banso.contracts.schemas import MovementIn

    data = _validated(
        MovementIn,
        kind=kind,
        effective_date=_day(on) or today(),
        mrr=mrr,
        seats=seats,
        plan=plan,
        end_date=_day(end_date),
        pause=pause,
        reason=reason,
    )
    with open_session() as session:
        movement = service.record_movement(session, CLI, contract_id, data)
        contract = service.get_contract(session, contract_id)
        console.print(
            f"Contract {contract_id}: {movement.kind} on {movement.effective_date}, MRR "
            f"{_money(movement.mrr_before, contract.currency)} → "
            f"{_money(movement.mrr_after, contract.currency)}, now {contract.status}."
        )


# ------------------------------------------------------------------ MRR


@handles_errors
def mrr(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Day [default: today].")
    ] = None,
    account: Annotated[int | None, typer.Option(help="Only this account.")] = None,
    currency: Annotated[
        str | None, typer.Option(help="Currency [default: BANSO_DEFAULT_CURRENCY].")
    ] = None,
) -> None:
    """MRR of active contracts on any day, rebuilt from the movements."""
    from banso.accounts.service import get_account
    from banso.contracts import service

    day = _day(as_of) or today()
    code = (currency or settings().default_currency).upper()
    if code not in CURRENCY_DIGITS:
        raise InvalidInput.one("--currency", f"use one of {', '.join(sorted(CURRENCY_DIGITS))}")
    with open_session() as session:
        scope = "all accounts"
        if account is not None:
            scope = f"account {account} ({get_account(session, account).name})"
        total = service.mrr_on(session, day, account, code)
    console.print(f"MRR on {day.isoformat()}, {scope}: [bold]{_money(total, code)}[/]")


# ------------------------------------------------------------------ billing


@billing_app.command("export")
@handles_errors
def billing_export(
    month: Annotated[datetime, typer.Option(formats=["%Y-%m"], help="Billing month, YYYY-MM.")],
    encoding: Annotated[
        str, typer.Option(help="utf-8 (with BOM, for Excel) or cp932 (Shift_JIS).")
    ] = "utf-8",
    output: Annotated[
        str | None,
        typer.Option(
            "-o", "--output", help="File to write [default: billing-YYYY-MM.csv]; - for stdout."
        ),
    ] = None,
    account_code_system: Annotated[
        str, typer.Option(help="External id system whose value fills account_code.")
    ] = "accounting",
    yes: Annotated[bool, typer.Option("--yes", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the billing CSV for a month: one line per contract active on its last day."""
    from banso.contracts import service

    first = month.date().replace(day=1)
    with open_session() as session:
        rows = service.billing_rows(session, first, account_code_system)
    body = service.encode_billing_csv(rows, encoding.lower())
    if output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    path = Path(output or f"billing-{first:%Y-%m}.csv")
    if path.exists() and not yes:
        typer.confirm(f"{path} exists. Overwrite it?", abort=True, err=True)
    path.write_bytes(body)
    err_console.print(
        f"Wrote {len(rows)} contracts for {first:%Y-%m} to {path} ({encoding.lower()}).",
        highlight=False,
    )
