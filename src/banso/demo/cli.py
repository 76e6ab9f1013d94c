"""`banso demo`: build the demo customer base."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.cli_support import console, fail, handles_errors, open_session, settings

LOGIN_FILE = "demo-login.txt"


def _login_path() -> Path:
    return Path(settings().data_dir) / LOGIN_FILE


def _print_login() -> None:
    path = _login_path()
    if path.exists():
        email, password = path.read_text(encoding="utf-8").split("\n")[:2]
        console.print(
            f"\n[bold]banso demo[/] → http://127.0.0.1:8000\n"
            f"  login:    {email}\n  password: {password}\n  (stored in {path})\n",
            highlight=False,
        )


def demo(
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 42,
    accounts: Annotated[int, typer.Option(min=10, max=200_000, help="Number of accounts.")] = 2000,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (but print the login) if data exists.")
    ] = False,
    reset: Annotated[bool, typer.Option("--reset", help="Delete ALL data first.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before --reset.")] = False,
) -> None:
    """Build a realistic demo customer base (Japanese B2B SaaS, three years of history)."""
    from banso.accounts.models import Account
    from banso.demo.generator import generate

    with open_session() as session:
        existing = session.scalar(select(func.count()).select_from(Account)) or 0
        if existing and if_empty:
            console.print(f"The database already holds {existing} accounts; nothing generated.")
            _print_login()
            return
        if existing and not reset:
            fail(f"the database already holds {existing} accounts; use --reset to replace them")
        if existing and reset:
            if not yes and not typer.confirm(
                f"Delete all {existing} accounts and every other record?"
            ):
                fail("nothing deleted")
            _wipe(session)
        password = secrets.token_urlsafe(12)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("Generating demo data", total=4)

            def step(label: str, count: int) -> None:
                bar.update(task, advance=1, description=f"{label}: {count:,}")

            result = generate(
                session, seed=seed, n_accounts=accounts, admin_password=password, progress=step
            )
    path = _login_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{result.admin_email}\n{password}\n", encoding="utf-8")
    path.chmod(0o600)
    console.print(
        f"Created {result.accounts:,} accounts, {result.contacts:,} contacts, "
        f"{result.contracts:,} contracts with {result.movements:,} movements, "
        f"{result.deals:,} deals."
    )
    _print_login()


def _wipe(session: Session) -> None:
    """Delete every row of every table, children first (only used by `demo --reset`)."""
    from sqlalchemy import delete

    from banso.models import metadata

    for table in reversed(metadata.sorted_tables):
        if table.name not in ("pipeline_stages", "lost_reasons"):
            session.execute(delete(table))


def register(app: typer.Typer) -> None:
    app.command("demo")(handles_errors(demo))
