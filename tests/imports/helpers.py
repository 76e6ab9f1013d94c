"""Files made inside the tests, and a short way to run an import as a user would."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.imports import service
from banso.imports.engine import ImportOptions, ImportReport

IMPORTER = Actor(label="import-test")


def write_csv(
    path: Path,
    rows: list[list[Any]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path: Path, rows: list[list[Any]], *, sheet: str = "Sheet1") -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    workbook.save(path)
    return path


def run_import(
    session: Session,
    entity: str,
    path: Path,
    *,
    preset: str | None = None,
    pairs: dict[str, str] | None = None,
    profile: str | None = None,
    system: str | None = None,
    **options: Any,
) -> ImportReport:
    mapping = service.build_mapping(
        session, entity, profile=profile, preset=preset, pairs=pairs, system=system
    )
    return service.run_import(
        session, IMPORTER, entity, path, mapping, ImportOptions(system=system, **options)
    )


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def errors_of(report: ImportReport) -> list[tuple[str, str]]:
    return [(e.field, e.message) for r in report.rejected for e in r.errors]
