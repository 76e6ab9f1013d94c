"""`banso accounts`, `banso duplicates` and `banso merge`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from banso.cli_support import console, fail, handles_errors, open_session

accounts_app = typer.Typer(help="Browse accounts and their contacts.", no_args_is_help=True)


@accounts_app.command("list")
@handles_errors
def list_accounts(
    q: Annotated[str | None, typer.Option(help="Search name, reading (kana).")] = None,
    segment: Annotated[str | None, typer.Option()] = None,
    industry: Annotated[str | None, typer.Option(help="Business type (業態).")] = None,
    stage: Annotated[str | None, typer.Option(help="Lifecycle stage.")] = None,
    owner: Annotated[int | None, typer.Option(help="Owner user id.")] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    sort: Annotated[str, typer.Option(help="name, -mrr, updated_at, ...")] = "name",
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[
        str | None, typer.Option(help="Cursor printed under the previous page.")
    ] = None,
) -> None:
    """List accounts, one page at a time."""
    from banso.accounts.service import AccountFilter
    from banso.accounts.service import list_accounts as list_

    f = AccountFilter(
        q=q, segment=segment, industry=industry, lifecycle_stage=stage, owner_id=owner, tag=tag
    )
    with open_session() as session:
        page = list_(session, f, sort=sort, cursor=cursor, limit=limit)
        table = Table("id", "name", "segment", "業態", "stage", "MRR (¥)", "owner")
        for a in page.items:
            table.add_row(
                str(a.id),
                a.name,
                a.segment or "",
                a.industry or "",
                a.lifecycle_stage or "",
                f"{a.mrr:,}",
                str(a.owner_id or ""),
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
            f"[bold]{account.name}[/] ({account.name_kana or ''})  "
            f"id {account.id}  version {account.version}"
        )
        for key in ("industry", "company_size", "segment", "source", "lifecycle_stage", "owner_id"):
            console.print(f"  {key}: {getattr(account, key) or '-'}", highlight=False)
        console.print(f"  MRR: ¥{account.mrr:,}  domains: {', '.join(account.domains) or '-'}")
        console.print(
            f"  tags: {', '.join(account.tags) or '-'}  external ids: {account.external_ids or '-'}"
        )
        if account.custom:
            console.print(
                f"  custom: {json.dumps(account.custom, ensure_ascii=False)}", highlight=False
            )
        contacts = list_contacts(session, ContactFilter(account_id=account_id), limit=500).items
        table = Table("id", "name", "role", "key", "email", "title", title="contacts")
        for c in contacts:
            table.add_row(
                str(c.id),
                c.name,
                c.role or "",
                "★" if c.is_key_person else "",
                c.email or "",
                c.title or "",
            )
        console.print(table)


@handles_errors
def duplicates(
    kind: Annotated[str, typer.Argument(help="accounts or contacts")] = "accounts",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """List likely duplicates with the reason they look alike."""
    from banso.accounts.models import Account, Contact
    from banso.accounts.resolution import find_duplicate_accounts, find_duplicate_contacts

    if kind not in ("accounts", "contacts"):
        fail("say `accounts` or `contacts`")
    finder = find_duplicate_accounts if kind == "accounts" else find_duplicate_contacts
    name_of = Account.name if kind == "accounts" else Contact.name
    id_of = Account.id if kind == "accounts" else Contact.id
    with open_session() as session:
        pairs = finder(session, limit=limit)
        ids = [p.first_id for p in pairs] + [p.second_id for p in pairs]
        names = dict(session.execute(select(id_of, name_of).where(id_of.in_(ids))).all())
        table = Table("score", "id", "name", "id", "name", "reasons")
        for p in pairs:
            table.add_row(
                str(p.score),
                str(p.first_id),
                names.get(p.first_id, ""),
                str(p.second_id),
                names.get(p.second_id, ""),
                ", ".join(p.reasons),
            )
        console.print(table)
        if not pairs:
            console.print("No likely duplicates.")


@handles_errors
def merge(
    source: Annotated[int, typer.Argument(help="Account id that disappears.")],
    into: Annotated[int, typer.Argument(help="Account id that stays.")],
    contacts: Annotated[
        bool, typer.Option("--contacts", help="Merge contacts, not accounts.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Merge one account (or contact) into another, after showing what moves."""
    from banso.accounts.merge import merge_accounts, merge_contacts
    from banso.audit.service import CLI

    run = merge_contacts if contacts else merge_accounts
    with open_session() as session:
        plan = run(session, CLI, source, into, preview=True)
        console.print(
            f"Merge [bold]{plan['source']['name']}[/] (id {source}) into "
            f"[bold]{plan['target']['name']}[/] (id {into}):"
        )
        for key in ("contacts", "contracts", "deals"):
            if key in plan:
                console.print(f"  moves {len(plan[key])} {key}")
        if "movements" in plan:
            console.print(f"  moves {plan['movements']} contract movements")
        for key in ("external_ids", "domains", "tags", "fill", "custom_fill"):
            if plan.get(key):
                console.print(
                    f"  {key}: {json.dumps(plan[key], ensure_ascii=False)}", highlight=False
                )
        for field, values in plan["conflicts"].items():
            console.print(
                f"  keeps {field} = {values['kept']!r} (source had {values['source']!r})",
                highlight=False,
            )
        if not yes and not typer.confirm("Merge?"):
            fail("nothing merged")
        run(session, CLI, source, into, preview=False)
        console.print(f"Merged {source} into {into}. The source record is kept in the audit log.")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
    app.command("duplicates")(duplicates)
    app.command("merge")(merge)
