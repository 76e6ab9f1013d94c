"""`banso events`: import historical events, manage write keys, link unmatched identities."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from banso import models as _every_table  # noqa: F401 - audit rows point at users: map them all
from banso.cli_support import console, err_console, handles_errors, open_session, settings

events_app = typer.Typer(
    help="Product usage: import events, write keys, unmatched users and groups.",
    no_args_is_help=True,
)
keys_app = typer.Typer(help="Write keys products send events with.", no_args_is_help=True)
unmatched_app = typer.Typer(
    help="Product users and groups no account is known for.", no_args_is_help=True
)
events_app.add_typer(keys_app, name="write-keys")
events_app.add_typer(unmatched_app, name="unmatched")


def open_store() -> Any:
    from banso.events.store import EventStore, default_root

    return EventStore(default_root(Path(settings().data_dir)))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _show_row_errors(result: Any) -> None:
    table = Table("row", "column", "problem", title="Bad rows", title_style="bold red")
    for error in result.errors:
        table.add_row(str(error.row), error.column or "-", escape(error.message))
    err_console.print(table)
    if result.error_count > len(result.errors):
        err_console.print(f"… and {result.error_count - len(result.errors):,} more bad rows")


@events_app.command("import")
@handles_errors
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV, JSON lines or Parquet file of events.")],
    format: Annotated[str, typer.Option("--format", "-f", help="csv, jsonl or parquet.")] = "csv",
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="column=field (repeatable), e.g. --map uid=user_id --map plan=properties.plan.",
        ),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option(help="Import the good rows and list the bad ones.")
    ] = False,
) -> None:
    """Load historical events into the event store (all rows or none, unless --skip-bad-rows)."""
    from banso.events.importer import ImportFailed, count_rows, import_events

    fmt = format.lower()
    store = open_store()
    try:
        with _progress() as bar:
            task = bar.add_task(f"importing {file.name}", total=count_rows(file, fmt))
            result = import_events(
                store,
                file,
                fmt,
                map_ or [],
                skip_bad_rows=skip_bad_rows,
                progress=lambda done: bar.update(task, completed=done),
            )
    except ImportFailed as exc:
        _show_row_errors(exc.result)
        err_console.print(
            "[bold red]error:[/] nothing was imported; fix these rows or pass --skip-bad-rows"
        )
        raise typer.Exit(1) from exc
    finally:
        store.close()
    if result.rows_skipped:
        _show_row_errors(result)
    duplicates = result.rows_read - result.rows_skipped - result.rows_added
    console.print(
        f"Imported {result.rows_added:,} events from {file.name} "
        f"({result.rows_read:,} rows read, {result.rows_skipped:,} bad rows skipped, "
        f"{duplicates:,} already stored)."
    )


@events_app.command("compact")
@handles_errors
def compact_command() -> None:
    """Merge the event store's small files into large ones (readers stay exact meanwhile)."""
    from banso.events.store import compact, default_root

    result = compact(default_root(Path(settings().data_dir)))
    console.print(
        f"Compacted the event store: {result.files_before} files → {result.files_after} "
        f"({result.merged_files} merged, {result.rows_merged:,} rows) in {result.seconds:.1f} s."
    )


@keys_app.command("create")
@handles_errors
def keys_create(
    name: Annotated[str, typer.Option(help="Where the events come from, e.g. 'web'.")],
) -> None:
    """Create a write key. It is printed once; only its hash is stored."""
    from banso.audit.service import CLI
    from banso.events.writekeys import create_write_key

    with open_session() as session:
        key, plain = create_write_key(session, CLI, name)
        console.print(f"Write key {key.id} ({escape(key.name)}):")
        console.print(plain, highlight=False, soft_wrap=True)
        console.print("Store it now; it cannot be shown again.", style="yellow")


@keys_app.command("list")
@handles_errors
def keys_list() -> None:
    """List write keys (never the keys themselves)."""
    from banso.events.writekeys import list_write_keys

    with open_session() as session:
        table = Table("id", "name", "prefix", "created", "last used", "state")
        for key in list_write_keys(session):
            last = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "-"
            table.add_row(
                str(key.id),
                escape(key.name),
                key.prefix + "…",
                key.created_at.isoformat(timespec="minutes"),
                last,
                "revoked" if key.revoked_at else "active",
            )
        console.print(table)


@keys_app.command("revoke")
@handles_errors
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="Key id from `banso events write-keys list`.")],
) -> None:
    """Revoke a write key at once: its next request is refused (401)."""
    from banso.audit.service import CLI
    from banso.events.writekeys import revoke_write_key

    with open_session() as session:
        key = revoke_write_key(session, CLI, key_id)
        console.print(f"Revoked write key {key.id} ({escape(key.name)}).")


Limit = Annotated[int, typer.Option(min=1, max=500, help="Rows to show.")]
After = Annotated[int, typer.Option(min=0, help="Show rows after this id (paging).")]


@unmatched_app.command("users")
@handles_errors
def unmatched_users(limit: Limit = 50, after: After = 0) -> None:
    """Product users that belong to no account yet."""
    from banso.events.identities import unmatched_users as find

    with open_session() as session:
        table = Table("id", "user id", "e-mail", "first seen", "last seen")
        for user in find(session, limit, after):
            table.add_row(
                str(user.id),
                escape(user.user_id),
                escape(user.email or "-"),
                user.first_seen_at.isoformat(timespec="minutes"),
                user.last_seen_at.isoformat(timespec="minutes"),
            )
        console.print(table)


@unmatched_app.command("groups")
@handles_errors
def unmatched_groups(limit: Limit = 50, after: After = 0) -> None:
    """Product groups that belong to no account yet."""
    from banso.events.identities import unmatched_groups as find

    with open_session() as session:
        table = Table("id", "group id", "name", "first seen", "last seen")
        for group in find(session, limit, after):
            table.add_row(
                str(group.id),
                escape(group.group_id),
                escape(group.name or "-"),
                group.first_seen_at.isoformat(timespec="minutes"),
                group.last_seen_at.isoformat(timespec="minutes"),
            )
        console.print(table)


@unmatched_app.command("link-user")
@handles_errors
def link_user(
    user_id: Annotated[str, typer.Argument(help="The product's userId.")],
    account: Annotated[int, typer.Option(help="Account id it belongs to.")],
    contact: Annotated[int | None, typer.Option(help="Contact id of that account.")] = None,
) -> None:
    """Link a product user to an account (and contact); its past events count at once."""
    from banso.audit.service import CLI
    from banso.events.identities import link_user as link

    with open_session() as session:
        user = link(session, CLI, user_id, account, contact)
        console.print(f"Linked user {escape(user.user_id)} to account {account}.")


@unmatched_app.command("link-group")
@handles_errors
def link_group(
    group_id: Annotated[str, typer.Argument(help="The product's groupId.")],
    account: Annotated[int, typer.Option(help="Account id it belongs to.")],
) -> None:
    """Link a product group to an account; its past events count at once."""
    from banso.audit.service import CLI
    from banso.events.identities import link_group as link

    with open_session() as session:
        group = link(session, CLI, group_id, account)
        console.print(f"Linked group {escape(group.group_id)} to account {account}.")


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
