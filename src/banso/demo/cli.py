"""`banso demo`: build the demo customer base and print how to sign in."""

from __future__ import annotations

import secrets
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from banso.cli_support import console, fail, handles_errors, open_session, settings
from banso.demo.story import DEFAULT_TODAY

LOGIN_FILE = "demo-login.txt"
DEMO_URL = "http://127.0.0.1:8000"
# The taxonomies the migration seeds belong to the schema, not to the data a reset removes.
_KEPT_TABLES = ("pipeline_stages", "lost_reasons")


def _login_path() -> Path:
    return Path(settings().data_dir) / LOGIN_FILE


def _save_login(email: str, password: str, token: str) -> Path:
    """Keep the generated password and API token (readable by their owner only) so every run
    can show them; the database itself keeps only their hashes."""
    path = _login_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{email}\n{password}\n{token}\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _print_login() -> None:
    path = _login_path()
    if not path.exists():
        console.print(
            f"\nbanso → {DEMO_URL}\n  No demo login is stored in {path}; sign in with a user "
            "you created (`banso users create`).",
            highlight=False,
        )
        return
    email, password, token = [*path.read_text(encoding="utf-8").split("\n"), "", ""][:3]
    console.print(
        f"\n[bold]banso demo[/] → {DEMO_URL}\n  login:     {email}\n  password:  {password}\n",
        highlight=False,
    )
    if token:
        console.print(
            f"  API token: {token}\n  try:       curl -H 'Authorization: Bearer {token}' "
            f"'{DEMO_URL}/api/v1/accounts?sort=-mrr&limit=5'\n",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"  (stored in {path})\n", highlight=False)


def demo(
    seed: Annotated[int, typer.Option(min=0, max=2**31 - 1, help="Same seed, same data.")] = 42,
    accounts: Annotated[
        int, typer.Option(min=10, max=200_000, help="Number of customer accounts.")
    ] = 2000,
    today: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help=f"The day the history ends (default {DEFAULT_TODAY.isoformat()}).",
        ),
    ] = None,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="If accounts exist, generate nothing; print the login."),
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete ALL data (users included) first.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before --reset.")] = False,
    usage: Annotated[
        bool, typer.Option(help="Also generate a year of product usage events.")
    ] = True,
    documents: Annotated[
        bool,
        typer.Option(
            help="Also write timeline entries, meetings, tasks, profiles and knowledge pages."
        ),
    ] = True,
) -> None:
    """Build a realistic demo customer base (Japanese B2B SaaS, three years of history)."""
    from banso.accounts.models import Account

    with open_session() as session:
        existing = session.scalar(select(func.count()).select_from(Account)) or 0
        if existing and if_empty:
            console.print(f"The database already holds {existing:,} accounts; nothing generated.")
            _print_login()
            return
        if existing and not reset:
            fail(
                f"the database already holds {existing:,} accounts; run `banso demo --reset` "
                "to delete everything and generate again, or `--if-empty` to keep it"
            )
        if existing:
            if not yes and not typer.confirm(
                f"Delete all {existing:,} accounts and every other record (users included)?"
            ):
                fail("nothing deleted")
            _wipe(session)
        _generate(session, seed, accounts, today.date() if today else DEFAULT_TODAY)
        if documents:
            _generate_documents(session)
        if usage:
            _generate_usage(session)
    _print_login()


def _generate_usage(session: Session) -> None:
    from banso.demo.usage import generate_usage
    from banso.events.store import EventStore, default_root

    started = time.perf_counter()
    root = default_root(Path(settings().data_dir))
    with console.status("Generating a year of product usage"), EventStore(root) as store:
        result = generate_usage(session, store)
    console.print(
        f"Created {result.events:,} usage events of {result.users:,} product users in "
        f"{result.groups:,} groups in {time.perf_counter() - started:.1f} s.",
        highlight=False,
    )


def _generate_documents(session: Session) -> None:
    from banso.demo.documents import PHASES, generate_documents

    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Writing demo documents", total=len(PHASES))

        def step(label: str, count: int) -> None:
            bar.update(task, advance=1, description=f"Writing demo documents ({label}: {count:,})")

        result = generate_documents(session, progress=step)
        session.flush()
    console.print(
        f"Wrote {result.entries:,} timeline entries ({result.troubles:,} troubles, "
        f"{result.cancellation_interviews:,} cancellation interviews), {result.meetings:,} "
        f"meetings with {result.items:,} agenda items and {result.reviews:,} reviews, "
        f"{result.tasks:,} tasks, {result.account_profiles:,} profiles, "
        f"{result.observations:,} observation sessions and {result.pages:,} knowledge pages "
        f"({result.indexed:,} documents indexed) in {time.perf_counter() - started:.1f} s.",
        highlight=False,
    )


def _generate(session: Session, seed: int, n_accounts: int, day: date) -> None:
    from banso.demo.generator import PHASES, generate

    password = secrets.token_urlsafe(12)
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Generating demo data", total=len(PHASES))

        def step(label: str, count: int) -> None:
            bar.update(task, advance=1, description=f"Generating demo data ({label}: {count:,})")

        result = generate(
            session,
            seed=seed,
            n_accounts=n_accounts,
            today=day,
            admin_password=password,
            progress=step,
        )
        session.flush()
    _install_scorecard(session)
    console.print(
        f"Created {result.accounts:,} accounts, {result.contacts:,} contacts, "
        f"{result.contracts:,} contracts with {result.movements:,} movements, "
        f"{result.deals:,} deals ({result.audit_entries:,} audit entries) "
        f"in {time.perf_counter() - started:.1f} s.",
        highlight=False,
    )
    if result.admin_created:
        from banso.audit.service import Actor
        from banso.auth.service import create_token, get_user_by_email

        admin = get_user_by_email(session, result.admin_email)
        _, token = create_token(session, Actor(label="demo"), admin, "demo")
        _save_login(result.admin_email, password, token)
    else:
        console.print(f"{result.admin_email} already existed; its password is unchanged.")


def _install_scorecard(session: Session) -> None:
    """The standard scorecard, so that the pipeline scores the demo accounts."""
    from banso.audit.service import Actor
    from banso.health.definitions import standard_scorecard
    from banso.health.service import save_scorecard, scorecards

    if not scorecards(session):
        save_scorecard(session, Actor(label="demo"), standard_scorecard())


def _wipe(session: Session) -> None:
    """Delete every row of every table, children first (only used by `demo --reset`)."""
    from banso.models import metadata

    for table in reversed(metadata.sorted_tables):
        if table.name not in _KEPT_TABLES:
            session.execute(delete(table))


def register(app: typer.Typer) -> None:
    app.command("demo")(handles_errors(demo))
