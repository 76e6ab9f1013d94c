"""`banso accounts`, `banso duplicates` and `banso merge`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from banso.cli_support import console, fail, handles_errors, open_session

accounts_app = typer.Typer(help="Browse accounts and their contacts.", no_args_is_help=True)


def _text(value: object) -> str:
    """A stored value as literal text (a name may contain '[b]' and must print as typed)."""
    return escape("" if value is None else str(value))


@accounts_app.command("list")
@handles_errors
def list_accounts(
    q: Annotated[str | None, typer.Option(help="Search name, reading (kana).")] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    industry: Annotated[str | None, typer.Option(help="Business type (業態).")] = None,
    size: Annotated[str | None, typer.Option(help="Company size, e.g. 100-299.")] = None,
    source: Annotated[str | None, typer.Option(help="Inflow channel.")] = None,
    stage: Annotated[str | None, typer.Option(help="Lifecycle stage.")] = None,
    owner: Annotated[int | None, typer.Option(help="Owner user id.")] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    domain: Annotated[str | None, typer.Option(help="Company domain, e.g. example.co.jp.")] = None,
    mrr_min: Annotated[int | None, typer.Option(help="Lowest MRR (yen).")] = None,
    mrr_max: Annotated[int | None, typer.Option(help="Highest MRR (yen).")] = None,
    sort: Annotated[
        str, typer.Option(help="name, -mrr, updated_at, ... (- = descending)")
    ] = "name",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="Cursor printed under the previous page.")
    ] = None,
) -> None:
    """List accounts, one page at a time."""
    from banso.accounts.service import AccountFilter
    from banso.accounts.service import list_accounts as list_

    f = AccountFilter(
        q=q,
        segment=segment,
        industry=industry,
        company_size=size,
        source=source,
        lifecycle_stage=stage,
        owner_id=owner,
        tag=tag,
        domain=domain,
        mrr_min=mrr_min,
        mrr_max=mrr_max,
    )
    with open_session() as session:
        page = list_(session, f, sort=sort, cursor=cursor, limit=limit)
        if not page.items:
            console.print("No accounts match.")
            return
        table = Table("id", "name", "segment", "業態", "stage", "MRR (¥)", "owner")
        for a in page.items:
            table.add_row(
                str(a.id),
                _text(a.name),
                _text(a.segment),
                _text(a.industry),
                _text(a.lifecycle_stage),
                f"{a.mrr:,}",
                _text(a.owner_id),
            )
        console.print(table)
        if page.next_cursor:
            console.print(f"more: --cursor {page.next_cursor}", highlight=False)


@accounts_app.command("show")
@handles_errors
def show_account(account_id: Annotated[int, typer.Argument(help="Account id.")]) -> None:
    """Show one account with its contacts."""
    from banso.accounts.service import ContactFilter, account_out, get_account, list_contacts

    with open_session() as session:
        account = account_out(session, get_account(session, account_id))
        console.print(
            f"[bold]{_text(account.name)}[/] ({_text(account.name_kana)})  "
            f"id {account.id}  version {account.version}",
            highlight=False,
        )
        for key in ("industry", "company_size", "segment", "source", "lifecycle_stage", "owner_id"):
            console.print(f"  {key}: {_text(getattr(account, key) or '-')}", highlight=False)
        console.print(
            f"  MRR: ¥{account.mrr:,}  domains: {_text(', '.join(account.domains) or '-')}",
            highlight=False,
        )
        external = ", ".join(f"{k}={v}" for k, v in account.external_ids.items())
        tags = ", ".join(account.tags) or "-"
        console.print(
            f"  tags: {_text(tags)}  external ids: {_text(external or '-')}", highlight=False
        )
        if account.custom:
            custom = json.dumps(account.custom, ensure_ascii=False)
            console.print(f"  custom: {_text(custom)}", highlight=False)
        page = list_contacts(session, ContactFilter(account_id=account_id), limit=500)
        if not page.items:
            console.print("  no contacts")
            return
        table = Table("id", "name", "role", "key", "email", "title", title="contacts")
        for c in page.items:
            table.add_row(
                str(c.id),
                _text(c.name),
                _text(c.role),
                "★" if c.is_key_person else "",
                _text(c.email),
                _text(c.title),
            )
        console.print(table)
        if page.next_cursor:
            console.print("  (first 500 contacts; see GET /api/v1/contacts?account_id=…)")


def _names(session: Any, kind: str, ids: list[int]) -> dict[int, str]:
    from banso.accounts.models import Account, Contact

    model = Account if kind == "accounts" else Contact
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {row_id: name for row_id, name in rows}


@handles_errors
def duplicates(
    kind: Annotated[str, typer.Argument(help="accounts or contacts")] = "accounts",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="Cursor printed under the previous page.")
    ] = None,
) -> None:
    """List likely duplicates, best first, with the reasons they look alike."""
    from banso.accounts.resolution import find_duplicate_accounts, find_duplicate_contacts

    if kind not in ("accounts", "contacts"):
        fail(f"say `banso duplicates accounts` or `banso duplicates contacts`, not {kind!r}")
    finder = find_duplicate_accounts if kind == "accounts" else find_duplicate_contacts
    with open_session() as session:
        page = finder(session, limit=limit, cursor=cursor)
        names = _names(session, kind, [i for p in page.items for i in (p.first_id, p.second_id)])
        table = Table(
            "score", "id", "name", "id", "name", "reasons", title=f"likely duplicate {kind}"
        )
        for p in page.items:
            table.add_row(
                str(p.score),
                str(p.first_id),
                _text(names.get(p.first_id)),
                str(p.second_id),
                _text(names.get(p.second_id)),
                ", ".join(p.reasons),
            )
        if not page.items:
            console.print(f"No likely duplicate {kind}.")
            return
        console.print(table)
        if page.next_cursor:
            console.print(f"more: --cursor {page.next_cursor}", highlight=False)
        flag = " --contacts" if kind == "contacts" else ""
        console.print(f"Merge a pair with: banso merge SOURCE INTO{flag}", highlight=False)


def _print_plan(plan: dict[str, Any], kind: str) -> None:
    source, target = plan["source"], plan["target"]
    console.print(
        f"Merge {kind} [bold]{_text(source['name'])}[/] (id {source['id']}) into "
        f"[bold]{_text(target['name'])}[/] (id {target['id']}):",
        highlight=False,
    )
    for key, count in plan["counts"].items():
        if count:
            console.print(f"  moves {count} {key}", highlight=False)
    for key in ("external_ids", "domains", "tags"):
        if plan.get(key):
            listed = json.dumps(plan[key], ensure_ascii=False)
            console.print(f"  {key}: {_text(listed)}", highlight=False)
    for key, value in {**plan["fill"], **plan["custom_fill"]}.items():
        console.print(
            f"  fills {key} = {_text(repr(value))} (empty on the target)", highlight=False
        )
    for key, values in plan["conflicts"].items():
        kept, theirs = _text(repr(values["kept"])), _text(repr(values["source"]))
        console.print(
            f"  keeps {key} = {kept} (the source's {theirs} is kept in the merge record)",
            highlight=False,
        )


@handles_errors
def merge(
    source: Annotated[int, typer.Argument(help="Id that disappears.")],
    into: Annotated[int, typer.Argument(help="Id that stays.")],
    contacts: Annotated[
        bool, typer.Option("--contacts", help="Merge contacts, not accounts.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Merge one account (or contact) into another, after showing what moves."""
    from banso.accounts.merge import merge_accounts, merge_contacts
    from banso.audit.service import CLI

    run = merge_contacts if contacts else merge_accounts
    with open_session() as session:
        plan = run(session, CLI, source, into, preview=True)
        _print_plan(plan, "contact" if contacts else "account")
        if not yes and not typer.confirm("Merge?"):
            fail("nothing merged")
        run(
            session,
            CLI,
            source,
            into,
            preview=False,
            source_version=plan["source"]["version"],
            target_version=plan["target"]["version"],
        )
        console.print(
            f"Merged {source} into {into}. The source record is kept in the audit log"
            f"{' and the merge record' if not contacts else ''}.",
            highlight=False,
        )


@accounts_app.command("rekey")
@handles_errors
def rekey() -> None:
    """Recompute normalised names (for matching and duplicates) after an upgrade."""
    from banso.accounts.resolution import rekey_accounts

    with open_session() as session:
        changed = rekey_accounts(session)
    console.print(f"{changed} normalised names updated.")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
    app.command("duplicates")(duplicates)
    app.command("merge")(merge)
