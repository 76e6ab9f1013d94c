"""`banso refresh` (metric snapshots for a date or a range) and `banso metrics` (definitions)."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from banso.cli_support import console, handles_errors, open_session, settings, today
from banso.errors import InvalidInput

metrics_app = typer.Typer(help="Metric definitions: list, import and export YAML.")


def register(app: typer.Typer) -> None:
    """Add `refresh` and `metrics` to the root `banso` app."""
    app.command("refresh")(refresh)
    app.add_typer(metrics_app, name="metrics")


def _dates(
    as_of: datetime | None, start: datetime | None, end: datetime | None, every: str
) -> list[date]:
    from banso.metrics.refresh import dates, parse_every

    if as_of is not None and (start or end):
        raise InvalidInput.one("--as-of", "give either --as-of or --from/--to, not both")
    if start is None and end is None:
        return [as_of.date() if as_of else today()]
    first = start.date() if start else today()
    return list(dates(first, end.date() if end else today(), parse_every(every)))


@handles_errors
def refresh(
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Date to compute (default: today)."),
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="Backfill from this date."),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option(
            "--to", formats=["%Y-%m-%d"], help="Backfill up to this date (default: today)."
        ),
    ] = None,
    every: Annotated[str, typer.Option(help="Step of a backfill: 1d, 7d, 2w.")] = "1d",
) -> None:
    """Compute every metric and health score for every account as of a date; store snapshots.

    A date counts events before the end of that day in the workspace timezone; refreshing a
    date replaces that date's metric values and scores (one transaction) and no other date's."""
    from banso.events.store import EventStore, default_root
    from banso.health.service import refresh as score_date
    from banso.metrics.engine import make_engine
    from banso.metrics.refresh import refresh as refresh_date

    config = settings()
    days = _dates(as_of, start, end, every)
    engine = make_engine(config)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with (
            EventStore(default_root(Path(config.data_dir))) as store,
            store.snapshot() as snap,
            Progress(*columns, TimeElapsedColumn(), console=console) as progress,
        ):
            task = progress.add_task("Refreshing metrics", total=len(days))
            for day in days:
                with open_session() as session:
                    result = refresh_date(session, engine, snap.files, day, config.timezone)
                    scores = score_date(session, day, result.values)
                progress.advance(task)
                progress.console.print(
                    f"{day}: {result.metrics} metrics × {result.accounts} accounts "
                    f"({result.rows} values) in {result.seconds:.1f} s on {engine.name}"
                )
                for r in scores:
                    progress.console.print(
                        f"{day}: health {r.scorecard}: {r.scored:,} accounts scored, "
                        f"{r.band_changes:,} band changes, {r.seconds:.2f} s"
                    )
    finally:
        engine.close()


@metrics_app.command("list")
@handles_errors
def metrics_list() -> None:
    """List the metrics in force."""
    from banso.metrics.service import definitions

    with open_session() as session:
        table = Table("key", "name", "kind", "unit")
        for d in definitions(session):
            table.add_row(d.key, d.name, d.spec.kind, d.unit)
        console.print(table)


@metrics_app.command("import")
@handles_errors
def metrics_import(
    path: Annotated[Path, typer.Argument(help="YAML file ('-' for standard input).")],
) -> None:
    """Add or replace metrics by key from YAML (all or nothing)."""
    from banso.audit.service import CLI
    from banso.metrics.definitions import load_yaml
    from banso.metrics.service import save_definitions

    if str(path) == "-":
        text = sys.stdin.read()
    elif not path.is_file():
        raise InvalidInput.one("path", f"{path} is not a file")
    else:
        text = path.read_text("utf-8")
    incoming = load_yaml(text, str(path))
    with open_session() as session:
        save_definitions(session, CLI, incoming)
    console.print(f"Imported {len(incoming)} metrics: {', '.join(d.key for d in incoming)}.")


@metrics_app.command("export")
@handles_errors
def metrics_export(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="File to write (default: standard output)."),
    ] = None,
) -> None:
    """Write the metrics in force as YAML (the format `metrics import` reads)."""
    from banso.metrics.definitions import dump_yaml
    from banso.metrics.service import definitions

    with open_session() as session:
        text = dump_yaml(definitions(session))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, "utf-8")
        console.print(f"Wrote {output}.")
