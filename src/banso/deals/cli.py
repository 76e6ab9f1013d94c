"""`banso deals`: browse inquiries and deals, the pipeline, the lost reasons; win a deal."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.progress import Progress
from rich.table import Table

from banso.cli_support import console, fail, handles_errors, open_session
from banso.errors import FieldError, InvalidInput
from banso.money import CURRENCY_DIGITS

deals_app = typer.Typer(
    help="Inquiries and deals (お問い合せ管理): pipeline, lost reasons, winning.",
    no_args_is_help=True,
)
Day = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], show_default=False)]


def register(app: typer.Typer) -> None:
    """Add the `deals` group to the root `banso` app."""
    app.add_typer(deals_app, name="deals")


def _money(minor: int | None, currency: str) -> str:
    """``1234500`` JPY → ``¥1,234,500``; ``1250`` USD → ``USD 12.50``; nothing → blank."""
    if minor is None:
        return ""
    digits = CURRENCY_DIGITS.get(currency, 0)
    text = f"{Decimal(minor).scaleb(-digits):,.{digits}f}"
    return f"¥{text}" if currency == "JPY" else f"{currency} {text}"


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _invalid(exc: ValidationError) -> InvalidInput:
    return InvalidInput(
        [
            FieldError(".".join(str(p) for p in err["loc"]) or "input", err["msg"])
            for err in exc.errors()
        ]
    )


def _deal_row(d: Any) -> tuple[str, ...]:
    company = d.company_name or ""
    if d.account_id is not None:
        company = f"{company} (account {d.account_id})".strip()
    return (
        str(d.id),
        d.title,
        company,
        d.stage_key + (f" ({d.lost_reason_key})" if d.lost_reason_key else ""),
        d.source_channel or "",
        d.company_size or "",
        _money(d.budget, d.currency),
        d.inquiry_date.isoformat() if d.inquiry_date else "",
    )


def _every_page(session: Any, f: Any, sort: str) -> list[Any]:
    """Walk every page of the list, with a progress bar sized by the matching count."""
    from banso.deals import service
    from banso.listing import MAX_LIMIT

    found: list[Any] = []
    cursor: str | None = None
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("Reading deals", total=service.count_deals(session, f))
        while True:
            page = service.list_deals(session, f, sort=sort, cursor=cursor, limit=MAX_LIMIT)
            found += service.deals_out(session, page.items)
            bar.advance(task, len(page.items))
            cursor = page.next_cursor
            if cursor is None:
                return found


@deals_app.command("list")
@handles_errors
def list_deals(
    stage: Annotated[str | None, typer.Option(help="Stage key (see `deals pipeline`).")] = None,
    outcome: Annotated[str | None, typer.Option(help="open, won, lost or archived.")] = None,
    source: Annotated[str | None, typer.Option(help="Source channel.")] = None,
    size: Annotated[str | None, typer.Option(help="Company size, e.g. 10-49.")] = None,
    owner: Annotated[int | None, typer.Option(help="Owner user id.")] = None,
    account: Annotated[int | None, typer.Option(help="Account id.")] = None,
    reason: Annotated[str | None, typer.Option(help="Lost reason key.")] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Inquiry on or after this day.")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Inquiry on or before it.")
    ] = None,
    q: Annotated[str | None, typer.Option(help="Search title and company name.")] = None,
    sort: Annotated[str, typer.Option(help="id, title, stage, inquiry_date, budget, ...")] = "-id",
    limit: Annotated[int, typer.Option(min=1, max=500, help="Rows to show.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Continue where a list stopped.")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every matching deal, not one page (ignores --limit).")
    ] = False,
) -> None:
    """List deals, one page at a time (or all of them with --all)."""
    from banso.deals import service

    if every and cursor:
        fail("--all starts from the first deal; leave out --cursor")
    f = service.DealFilter(
        stage=stage,
        outcome=outcome,
        source_channel=source,
        company_size=size,
        owner_id=owner,
        account_id=account,
        lost_reason_key=reason,
        inquiry_from=_day(since),
        inquiry_to=_day(until),
        q=q,
    )
    next_cursor = None
    with open_session() as session:
        if every:
            deals = _every_page(session, f, sort)
        else:
            page = service.list_deals(session, f, sort=sort, cursor=cursor, limit=limit)
            deals, next_cursor = service.deals_out(session, page.items), page.next_cursor
    table = Table("id", "title", "company", "stage", "source", "size", "budget", "inquiry")
    for d in deals:
        table.add_row(*_deal_row(d))
    console.print(table)
    if every:
        console.print(f"{len(deals)} deals.", highlight=False)
    elif next_cursor:
        console.print(f"More: --cursor {next_cursor} (or --all)", highlight=False, soft_wrap=True)


@deals_app.command("show")
@handles_errors
def show_deal(deal_id: Annotated[int, typer.Argument(help="Deal id from `deals list`.")]) -> None:
    """Show one deal with its problem, story and stage."""
    from banso.deals import service

    with open_session() as session:
        d = service.deal_out(session, service.get_deal(session, deal_id))
        details = Table.grid(padding=(0, 2))
        rows: list[tuple[str, Any]] = [
            ("company", d.company_name),
            ("account", d.account_id),
            ("contact", d.contact_id),
            ("stage", f"{d.stage_key} ({d.outcome})"),
            ("lost reason", " — ".join(x for x in (d.lost_reason_key, d.lost_reason_text) if x)),
            ("source", d.source_channel),
            ("company size", d.company_size),
            ("budget", _money(d.budget, d.currency)),
            ("expected MRR", _money(d.expected_mrr, d.currency)),
            ("owner", d.owner_id),
            ("inquiry", d.inquiry_date),
            ("expected close", d.expected_close_date),
            ("closed", d.closed_date),
            ("contract", d.contract_id),
            ("problem", d.problem),
            ("story", d.story),
            ("custom", json.dumps(d.custom, ensure_ascii=False) if d.custom else None),
            ("external ids", ", ".join(f"{k}={v}" for k, v in d.external_ids.items())),
            ("version", d.version),
        ]
        for label, value in rows:
            details.add_row(f"[bold]{label}[/]", "" if value is None else str(value))
        console.print(f"[bold]Deal {d.id}[/] {d.title}", highlight=False)
        console.print(details, highlight=False)


@deals_app.command("pipeline")
@handles_errors
def pipeline() -> None:
    """List the pipeline's stages in order, with how many deals each holds."""
    from banso.deals import service

    with open_session() as session:
        table = Table("position", "key", "label (ja)", "label (en)", "outcome", "deals")
        for s in service.list_stages(session):
            table.add_row(
                str(s["position"]),
                s["key"],
                s["label_ja"],
                s["label_en"],
                s["outcome"],
                str(s["deals"]),
            )
        console.print(table)


@deals_app.command("lost-reasons")
@handles_errors
def lost_reasons(
    active_only: Annotated[bool, typer.Option("--active-only", help="Hide retired ones.")] = False,
) -> None:
    """List the lost and archive reasons, with how many deals give each."""
    from banso.deals import service

    with open_session() as session:
        table = Table("key", "label (ja)", "label (en)", "kind", "active", "deals")
        for r in service.list_reasons(session, include_inactive=not active_only):
            table.add_row(
                r["key"],
                r["label_ja"],
                r["label_en"],
                r["kind"],
                "yes" if r["is_active"] else "no",
                str(r["deals"]),
            )
        console.print(table)


@deals_app.command("win")
@handles_errors
def win(
    deal_id: Annotated[int, typer.Argument(help="Deal id from `deals list`.")],
    plan: Annotated[str, typer.Option(help="Plan of the first contract.")],
    mrr: Annotated[int, typer.Option(help="MRR in minor units (yen).")],
    start: Annotated[
        datetime, typer.Option("--start", formats=["%Y-%m-%d"], help="Contract start day.")
    ],
    end: Day = None,
    seats: Annotated[int | None, typer.Option(help="Seats.")] = None,
    account: Annotated[
        int | None, typer.Option(help="Link to this existing account [default: deal's].")
    ] = None,
    company: Annotated[
        str | None, typer.Option(help="Create an account with this name [default: deal's].")
    ] = None,
    domain: Annotated[
        list[str] | None, typer.Option(help="Domain of the new account (repeatable).")
    ] = None,
    trial: Annotated[bool, typer.Option("--trial", help="Start as a trial.")] = False,
    no_auto_renew: Annotated[bool, typer.Option("--no-auto-renew")] = False,
    closed: Day = None,
) -> None:
    """Win a deal: link or create its account and start its first contract."""
    from banso.audit.service import CLI
    from banso.deals import service
    from banso.deals.schemas import WinIn

    values = {
        "plan": plan,
        "mrr": mrr,
        "start_date": _day(start),
        "end_date": _day(end),
        "seats": seats,
        "account_id": account,
        "company_name": company,
        "domains": domain or [],
        "status": "trial" if trial else "active",
        "auto_renew": not no_auto_renew,
        "closed_date": _day(closed),
    }
    try:
        data = WinIn(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise _invalid(exc) from exc
    with open_session() as session:
        result = service.win_deal(session, CLI, deal_id, data)
        how = "created" if result.account_created else "linked to"
        console.print(
            f"Won deal {deal_id}: {how} account {result.account_id}, contract "
            f"{result.contract_id} ({plan}, {_money(mrr, result.deal.currency)} MRR).",
            highlight=False,
        )
