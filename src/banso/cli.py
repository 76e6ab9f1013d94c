"""The `banso` command line. Each capability adds its commands from its own module."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer
from rich.table import Table

from banso import __version__
from banso.cli_support import console, fail, handles_errors, open_session, settings

app = typer.Typer(
    name="banso",
    help="banso (伴走): customer success platform. Every command has --help.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
users_app = typer.Typer(help="Manage the people who sign in.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage REST API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")

# Capabilities add their commands from a module with ``register(app: typer.Typer)``.
COMMAND_MODULES = (
    "banso.accounts.cli",
    "banso.contracts.cli",
    "banso.deals.cli",
    "banso.imports.cli",
    "banso.demo.cli",
    "banso.events.cli",
    "banso.search.cli",
    "banso.metrics.cli",
    "banso.health.cli",
    "banso.tasks.cli",
    "banso.notify.cli",
)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        console.print(f"banso {__version__}")
        raise typer.Exit()


@app.command()
@handles_errors
def init() -> None:
    """Create or migrate the database to this version's schema."""
    from banso.db import make_engine
    from banso.migrate import current_revision, head_revision, upgrade

    config = settings()
    engine = make_engine(config)
    before = current_revision(engine)
    upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    engine.dispose()
    from banso.timeline.reasons import ensure_default_reasons

    with open_session() as session:
        ensure_default_reasons(session)  # the starting taxonomies that no migration writes
    if before == head_revision():
        console.print(f"Database {where} is up to date ({before}).")
    else:
        console.print(f"Database {where} migrated from {before or 'empty'} to {head_revision()}.")


@app.command()
@handles_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: BANSO_HOST].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: BANSO_PORT].")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the web interface, the REST API and usage ingestion."""
    import uvicorn

    from banso.app import create_app

    config = settings()
    create_app(config).state.engine.dispose()  # fail now, with a clear message, if unmigrated
    console.print(f"banso serving on http://{host or config.host}:{port or config.port}")
    uvicorn.run(
        "banso.app:app_from_environment",
        factory=True,
        host=host or config.host,
        port=port or config.port,
        workers=workers,
        log_level="info",
    )


@users_app.command("create")
@handles_errors
def users_create(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail address.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    role: Annotated[str, typer.Option(help="admin, manager, csm or viewer.")] = "csm",
    password: Annotated[
        str | None, typer.Option(help="Password (≥10 characters); asked for when omitted.")
    ] = None,
) -> None:
    """Create a user who can sign in."""
    from banso.audit.service import CLI
    from banso.auth.service import UserIn, create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    data = UserIn(email=email, name=name or email.split("@")[0], role=role, password=password)
    with open_session() as session:
        user = create_user(session, CLI, data)
        console.print(f"Created {user.role} {user.email} (id {user.id}).")


@users_app.command("list")
@handles_errors
def users_list() -> None:
    """List users."""
    from banso.auth.service import list_users

    with open_session() as session:
        table = Table("id", "email", "name", "role", "active")
        for user in list_users(session):
            table.add_row(
                str(user.id), user.email, user.name, user.role, "yes" if user.is_active else "no"
            )
        console.print(table)


@keys_app.command("create")
@handles_errors
def keys_create(
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'CRM sync'.")],
    user: Annotated[str, typer.Option(help="E-mail of the user the token acts as.")],
    expires_days: Annotated[
        int | None, typer.Option(min=1, help="Days until it expires [default: never].")
    ] = None,
) -> None:
    """Create a REST API token. It is printed once; only its hash is stored."""
    from banso.audit.service import CLI
    from banso.auth.service import create_token, get_user_by_email

    with open_session() as session:
        owner = get_user_by_email(session, user)
        token, plain = create_token(session, CLI, owner, name, expires_days)
        console.print(f"API token {token.id} ({name}) for {owner.email}, role {owner.role}:")
        console.print(plain, highlight=False, soft_wrap=True)
        console.print("Store it now; it cannot be shown again.", style="yellow")


@keys_app.command("list")
@handles_errors
def keys_list() -> None:
    """List API tokens (never the tokens themselves)."""
    from banso.auth.service import list_tokens

    with open_session() as session:
        table = Table("id", "name", "prefix", "user", "created", "last used", "state")
        for t in list_tokens(session):
            state = "revoked" if t.revoked_at else "active"
            last = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "-"
            table.add_row(
                str(t.id),
                t.name,
                t.prefix + "…",
                str(t.user_id),
                t.created_at.isoformat(timespec="minutes"),
                last,
                state,
            )
        console.print(table)


@keys_app.command("revoke")
@handles_errors
def keys_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id from `keys list`.")],
) -> None:
    """Revoke an API token at once."""
    from banso.audit.service import CLI
    from banso.auth.service import revoke_token

    with open_session() as session:
        token = revoke_token(session, CLI, token_id)
        console.print(f"Revoked token {token.id} ({token.name}).")


def _register_subcommands() -> None:
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)


_register_subcommands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        fail("interrupted", code=130)
