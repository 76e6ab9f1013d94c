"""`banso import`, `banso export` and `banso import-profiles`."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from banso.cli_support import console, err_console, fail, handles_errors, open_session, settings
from banso.errors import FieldError

profiles_app = typer.Typer(
    help="Saved column mappings for `banso import` (named profiles).", no_args_is_help=True
)

EntityArg = Annotated[str, typer.Argument(help="accounts, contacts, contracts or deals.")]


class _RejectsFile:
    """Writes rejected rows as they come: the original cells, the row number and the reasons."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._handle: Any = None
        self._writer: Any = None
        self.count = 0

    def __call__(
        self, header: list[str], row: int, cells: list[Any], errors: list[FieldError]
    ) -> None:
        if self.path is None:
            return
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle, lineterminator="\r\n")
            self._writer.writerow(["row", "errors", *header])
        reasons = "; ".join(f"{e.field}: {e.message}" for e in errors)
        self._writer.writerow([row, reasons, *("" if c is None else c for c in cells)])
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _show_mapping(report: Any) -> None:
    mapped = ", ".join(f"'{c}' → {f}" for c, f in report.mapped.items())
    console.print(f"[bold]Mapped[/]: {escape(mapped)}", highlight=False)
    if report.unmapped_columns:
        ignored = ", ".join(f"'{c}'" for c in report.unmapped_columns)
        console.print(f"[yellow]Not mapped (ignored)[/]: {escape(ignored)}", highlight=False)


def _row_table(results: list[Any], title: str, *, dry_run: bool) -> Table:
    table = Table("row", "result", "id", "details", title=title, title_justify="left")
    styles = {"created": "green", "updated": "cyan", "unchanged": "dim", "rejected": "red"}
    for result in results:
        if result.errors:
            details = "\n".join(f"{e.field}: {e.message}" for e in result.errors)
        else:
            details = ", ".join(result.changed)
        action = result.action
        if dry_run:
            action = {"created": "would create", "updated": "would update"}.get(action, action)
        table.add_row(
            str(result.row),
            f"[{styles[result.action]}]{action}[/]",
            ""
            if result.record_id is None or (dry_run and action == "would create")
            else str(result.record_id),
            escape(details),
        )
    return table


def _summary(report: Any) -> str:
    c = report.counts
    text = (
        f"{c['rows']:,} rows: {c['created']:,} created, {c['updated']:,} updated, "
        f"{c['unchanged']:,} unchanged, {c['rejected']:,} rejected"
    )
    rate = f" ({report.rows_per_second:,.0f} rows/s)" if report.seconds else ""
    return text + rate


def import_file(
    entity: EntityArg,
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or Shift_JIS) or .xlsx file.")],
    profile: Annotated[
        str | None, typer.Option(help="A saved mapping (banso import-profiles list).")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Column names of a CRM export: salesforce or hubspot.")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="'Column=field', repeatable; added to the profile or preset."),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option(help="System the external ids come from (e.g. salesforce)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; write nothing.")
    ] = False,
    skip_bad_rows: Annotated[
        bool,
        typer.Option("--skip-bad-rows", help="Import the good rows even if some are rejected."),
    ] = False,
    rejects: Annotated[
        Path | None, typer.Option(help="Write the rejected rows and reasons to this CSV.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="utf-8 or cp932 [default: detected].")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="comma, tab or semicolon [default: detected].")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help=".xlsx sheet [default: the first].")] = None,
    show: Annotated[
        int, typer.Option(min=0, help="Rows to list one by one (rejected rows always are).")
    ] = 50,
) -> None:
    """Import accounts, contacts, contracts or deals from CSV or .xlsx (upsert by external id).

    A file is imported whole or not at all, unless --skip-bad-rows. Each row is compared with
    what is stored, so importing the same file again changes nothing.
    """
    from banso.audit.service import CLI
    from banso.imports import service
    from banso.imports.engine import ImportOptions
    from banso.imports.mapping import parse_pairs

    entity = service.entity_or_error(entity)
    pairs = parse_pairs(map_ or [])
    options = ImportOptions(
        system=system,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
    )
    sink = _RejectsFile(rejects)
    config = settings()
    try:
        with open_session() as session, _progress() as bar:
            task = bar.add_task(f"Importing {file.name}", total=None, rows=0)

            def progress(rows: int, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total or None, rows=rows)

            mapping = service.build_mapping(
                session, entity, profile=profile, preset=preset, pairs=pairs, system=system
            )
            report = service.run_import(
                session,
                CLI,
                entity,
                file,
                mapping,
                options,
                timezone=config.timezone,
                progress=progress,
                on_reject=sink,
            )
    finally:
        sink.close()
    _print_report(report, show, rejects if sink.count else None)
    if report.counts["rejected"] and not report.written and not dry_run:
        raise typer.Exit(1)


def _print_report(report: Any, show: int, rejects: Path | None) -> None:
    _show_mapping(report)
    listed = report.details[:show] if show else []
    if report.dry_run and listed:
        console.print(_row_table(listed, "Dry run, row by row", dry_run=True))
        hidden = report.counts["rows"] - len(listed)
        if hidden > 0:
            console.print(f"… {hidden:,} more rows (see --show)", style="dim")
    elif report.rejected:
        console.print(
            _row_table(report.rejected[: max(show, 20)], "Rejected rows", dry_run=report.dry_run)
        )
    if rejects is not None:
        console.print(f"Rejected rows written to {escape(str(rejects))}")
    summary = _summary(report)
    if report.dry_run:
        console.print(f"[bold]Dry run[/] — nothing was written. {summary}", highlight=False)
    elif report.written:
        console.print(f"[bold green]Imported[/] {escape(report.file)}: {summary}", highlight=False)
    else:
        console.print(
            f"[bold red]Nothing was imported[/]: {summary}. Fix the rejected rows, or pass "
            "--skip-bad-rows to import the others.",
            highlight=False,
        )


def export_file(
    entity: EntityArg,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="FILE.csv or FILE.xlsx [default: CSV to stdout]."),
    ] = None,
    encoding: Annotated[
        str, typer.Option(help="CSV encoding: utf-8 (with a BOM for Excel) or cp932.")
    ] = "utf-8",
    segment: Annotated[str | None, typer.Option(help="Accounts in this segment.")] = None,
    industry: Annotated[str | None, typer.Option(help="Accounts in this industry.")] = None,
    lifecycle_stage: Annotated[str | None, typer.Option(help="Accounts in this stage.")] = None,
    tag: Annotated[str | None, typer.Option(help="Accounts with this tag.")] = None,
    owner: Annotated[str | None, typer.Option(help="E-mail of the owner.")] = None,
    account_id: Annotated[
        int | None, typer.Option(help="Contacts, contracts or deals of one account.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="Contracts with this status.")] = None,
    stage: Annotated[str | None, typer.Option(help="Deals in this stage (key).")] = None,
    custom: Annotated[
        list[str] | None, typer.Option(help="'key=value' on a custom field, repeatable.")
    ] = None,
) -> None:
    """Export accounts, contacts, contracts or deals to CSV or .xlsx (re-importable as is)."""
    from banso.auth.service import get_user_by_email
    from banso.imports import export as exporter
    from banso.imports.service import entity_or_error

    entity = entity_or_error(entity)
    custom_filters = dict(pair.partition("=")[::2] for pair in custom or [])
    with open_session() as session:
        owner_id = get_user_by_email(session, owner).id if owner else None
        f = exporter.ExportFilter(
            segment=segment,
            industry=industry,
            lifecycle_stage=lifecycle_stage,
            tag=tag,
            owner_id=owner_id,
            account_id=account_id,
            status=status,
            stage=stage,
            custom=custom_filters,
        )
        data = exporter.export(session, entity, f)
        if output is None:
            for chunk in exporter.csv_chunks(data, encoding):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        count = exporter.write_file(data, output, encoding)
    err_console.print(f"Exported {count:,} {entity}s to {escape(str(output))}.", highlight=False)


@profiles_app.command("list")
@handles_errors
def profiles_list() -> None:
    """List saved import profiles."""
    from banso.imports import service

    with open_session() as session:
        table = Table("name", "entity", "system", "columns", "updated")
        for p in service.list_profiles(session):
            table.add_row(
                escape(p.name),
                p.entity,
                (p.options or {}).get("system") or "",
                str(len(p.mapping)),
                p.updated_at.isoformat(timespec="minutes"),
            )
        console.print(table)


@profiles_app.command("show")
@handles_errors
def profiles_show(name: Annotated[str, typer.Argument(help="Profile name.")]) -> None:
    """Show a profile's column → field mapping."""
    from banso.imports import service

    with open_session() as session:
        p = service.get_profile(session, name)
        table = Table("column", "field", title=f"{escape(p.name)} ({p.entity})")
        for column, target in p.mapping.items():
            table.add_row(escape(column), target)
        console.print(table)
        options = p.options or {}
        if options.get("system"):
            console.print(f"system: {options['system']}")
        if options.get("values"):
            console.print("values: " + escape(json.dumps(options["values"], ensure_ascii=False)))


@profiles_app.command("save")
@handles_errors
def profiles_save(
    name: Annotated[str, typer.Argument(help="Profile name.")],
    entity: Annotated[str, typer.Option(help="accounts, contacts, contracts or deals.")],
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="'Column=field', repeatable.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Start from a preset (salesforce, hubspot).")
    ] = None,
    system: Annotated[str | None, typer.Option(help="System of the external ids.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite a profile.")] = False,
) -> None:
    """Save a named column mapping for `banso import --profile NAME`."""
    from banso.audit.service import CLI
    from banso.imports import mapping as maps
    from banso.imports import service

    entity_name = service.entity_or_error(entity)
    columns: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    if preset:
        base = maps.preset(preset, entity_name)
        columns, values, system = dict(base.columns), dict(base.values), system or base.system
    columns.update(maps.parse_pairs(map_ or []))
    with open_session() as session:
        p = service.save_profile(
            session, CLI, name, entity_name, columns, system=system, values=values, replace=replace
        )
        console.print(f"Saved profile {escape(p.name)} ({p.entity}, {len(p.mapping)} columns).")


@profiles_app.command("delete")
@handles_errors
def profiles_delete(
    name: Annotated[str, typer.Argument(help="Profile name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a saved profile."""
    from banso.audit.service import CLI
    from banso.imports import service

    if not yes and not typer.confirm(f"Delete import profile {name!r}?"):
        fail("not deleted")
    with open_session() as session:
        service.delete_profile(session, CLI, name)
        console.print(f"Deleted profile {escape(name)}.")


def register(app: typer.Typer) -> None:
    """Add `import`, `export` and `import-profiles` to the root `banso` app."""
    app.command("import")(handles_errors(import_file))
    app.command("export")(handles_errors(export_file))
    app.add_typer(profiles_app, name="import-profiles")
