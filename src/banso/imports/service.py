"""Import a file into accounts, contacts, contracts or deals; save and reuse column mappings."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.audit.service import Actor, record, snapshot
from banso.errors import Conflict, InvalidInput, NotFound
from banso.imports import mapping as maps
from banso.imports.engine import (
    CHUNK_ROWS,
    ChunkWriter,
    Context,
    ImportOptions,
    ImportReport,
    Progress,
    RejectSink,
    SeenRecords,
    chunks,
)
from banso.imports.entities import IMPORTERS
from banso.imports.fields import entity_of
from banso.imports.models import ImportProfile
from banso.imports.readers import open_table


def entity_or_error(name: str) -> str:
    try:
        return entity_of(name)
    except ValueError as exc:
        raise InvalidInput.one("entity", str(exc)) from None


def build_mapping(
    session: Session,
    entity: str,
    *,
    profile: str | None = None,
    preset: str | None = None,
    pairs: dict[str, str] | None = None,
    system: str | None = None,
) -> maps.Mapping | None:
    """The mapping asked for: a profile or a preset, with ``pairs`` on top; None means 'from
    the header' (columns already named after banso fields)."""
    entity = entity_or_error(entity)
    if profile and preset:
        raise InvalidInput.one("profile", "give a profile or a preset, not both")
    base: maps.Mapping | None = None
    if profile:
        saved = get_profile(session, profile)
        if saved.entity != entity:
            raise InvalidInput.one(
                "profile", f"profile {profile!r} maps {saved.entity}s, not {entity}s"
            )
        base = maps.from_options(entity, saved.mapping, saved.options or {})
    elif preset:
        base = maps.preset(preset, entity)
    if pairs:
        base = base.with_pairs(pairs) if base else maps.Mapping(entity, dict(pairs))
    chosen = maps.check_system(system)
    if base is not None and chosen:
        base.system = chosen
    if base is None and chosen:
        base = maps.Mapping(entity, {}, chosen, origin="header")
    return base


def _today(timezone: str) -> Any:
    return datetime.now(ZoneInfo(timezone)).date()


def run_import(
    session: Session,
    actor: Actor,
    entity: str,
    path: Path,
    mapping: maps.Mapping | None,
    options: ImportOptions,
    *,
    file_name: str | None = None,
    timezone: str = "Asia/Tokyo",
    progress: Progress | None = None,
    on_reject: RejectSink | None = None,
) -> ImportReport:
    """Import ``path``. Nothing is kept for a dry run, nor when a row is rejected unless
    ``options.skip_bad_rows``; the report says per row what happened (or would have)."""
    entity = entity_or_error(entity)
    started = time.perf_counter()
    report = ImportReport(
        entity=entity,
        file=file_name or path.name,
        dry_run=options.dry_run,
        skip_bad_rows=options.skip_bad_rows,
        detail_rows=options.detail_rows,
    )
    with open_table(
        path, encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet
    ) as table:
        chosen = mapping or maps.Mapping(entity, {}, origin="header")
        if not chosen.columns:
            auto = maps.auto(entity, table.header)
            chosen = maps.Mapping(entity, auto.columns, chosen.system, chosen.values, "header")
        bound = maps.bind(chosen, table.header)
        report.format, report.encoding, report.delimiter = (
            table.format,
            table.encoding,
            table.delimiter,
        )
        report.system = bound.system
        report.mapped = {b.column: b.spec.name for b in bound.fields}
        report.unmapped_columns = bound.unmapped
        session.flush()
        ctx = Context(
            session=session,
            actor=actor,
            entity=entity,
            bound=bound,
            options=options,
            currency=session.info.get("currency", "JPY"),
            today=options.today or _today(timezone),
            defs=customfields.definitions(session, entity),
            header_width=len(table.header),
        )
        writer = ChunkWriter(IMPORTERS[entity](ctx), SeenRecords())
        savepoint = session.begin_nested()
        try:
            for index, chunk in enumerate(chunks(table.rows, CHUNK_ROWS), start=1):
                for result in writer.run(chunk):
                    report.add(result)
                    if result.action == "rejected" and on_reject is not None:
                        on_reject(
                            table.header, result.row, chunk_cells(chunk, result.row), result.errors
                        )
                if index in _ANALYZE_AFTER:
                    _refresh_statistics(session, writer.imp.table.name)
                if progress is not None:
                    progress(report.counts["rows"], table.bytes_read, table.size_bytes)
            keep = not options.dry_run and (options.skip_bad_rows or not report.counts["rejected"])
            if keep:
                savepoint.commit()
            else:
                savepoint.rollback()
            report.written = keep
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
    session.expire_all()
    report.seconds = time.perf_counter() - started
    return report


# Chunks after which PostgreSQL's planner statistics are refreshed (geometric, so cheap).
_ANALYZE_AFTER = frozenset({1, 4, 16, 64, 256, 1024})


def _refresh_statistics(session: Session, table: str) -> None:
    """A big import inside one transaction leaves PostgreSQL planning the id lookups of later
    chunks with the statistics of the tables as they were before (often empty), so it scans
    instead of using the indexes. ANALYZE may run inside a transaction and sees its rows."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE external_ids, accounts, {table}"))


def chunk_cells(chunk: list[tuple[int, list[Any]]], number: int) -> list[Any]:
    first = chunk[0][0]
    guess = number - first
    if 0 <= guess < len(chunk) and chunk[guess][0] == number:
        return chunk[guess][1]
    return next(cells for n, cells in chunk if n == number)


# ------------------------------------------------------------------ profiles


def list_profiles(session: Session) -> list[ImportProfile]:
    return list(session.scalars(select(ImportProfile).order_by(ImportProfile.name)))


def get_profile(session: Session, name: str) -> ImportProfile:
    profile = session.scalar(select(ImportProfile).where(ImportProfile.name == name))
    if profile is None:
        raise NotFound("import profile", repr(name))
    return profile


def save_profile(
    session: Session,
    actor: Actor,
    name: str,
    entity: str,
    columns: dict[str, str],
    *,
    system: str | None = None,
    values: dict[str, dict[str, str]] | None = None,
    replace: bool = False,
) -> ImportProfile:
    """Save a named mapping; every field it names must exist for the entity."""
    entity = entity_or_error(entity)
    name = name.strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise InvalidInput.one("name", "give the profile a name of 1 to 100 characters")
    if not columns:
        raise InvalidInput.one("map", "a profile needs at least one 'Column=field' pair")
    bad = [f for f in columns.values() if maps.field_spec(entity, f) is None]
    if bad:
        raise InvalidInput.one(
            "map", f"{bad} are not {entity} fields ({', '.join(maps.field_names(entity))})"
        )
    options: dict[str, Any] = {"system": maps.check_system(system)} if system else {}
    if values:
        options["values"] = values
    existing = session.scalar(select(ImportProfile).where(ImportProfile.name == name))
    if existing is not None and not replace:
        raise Conflict(f"a profile named {name!r} exists; pass --replace to overwrite it")
    before = snapshot(existing) if existing is not None else None
    profile = existing or ImportProfile(name=name)
    profile.entity, profile.mapping, profile.options = entity, dict(columns), options
    session.add(profile)
    session.flush()
    action = "update" if before else "create"
    record(session, actor, action, "import_profile", profile.id, before, snapshot(profile))
    return profile


def delete_profile(session: Session, actor: Actor, name: str) -> None:
    profile = get_profile(session, name)
    record(session, actor, "delete", "import_profile", profile.id, snapshot(profile), None)
    session.delete(profile)
    session.flush()
