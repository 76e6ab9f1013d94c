"""REST endpoints: upload a file to import, download an export as CSV."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from banso.api.deps import ReaderDep, SettingsDep, WriterDep, get_session
from banso.errors import BansoError, InvalidInput
from banso.imports import export as exporter
from banso.imports import service
from banso.imports.engine import ImportOptions, ImportReport

router = APIRouter()

# Exports stream after the route returns, so their session must live until the last byte.
StreamSessionDep = Annotated[Session, Depends(get_session, scope="request")]
_MULTIPART_OVERHEAD = 64 * 1024
_TRUE = {"true", "1", "yes", "on"}

_IMPORT_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "profile": {"type": "string", "description": "A saved mapping."},
                        "preset": {"type": "string", "enum": ["salesforce", "hubspot"]},
                        "mapping": {
                            "type": "string",
                            "description": 'JSON object {"Column": "field"}.',
                        },
                        "system": {"type": "string", "description": "e.g. salesforce"},
                        "dry_run": {"type": "boolean", "default": False},
                        "skip_bad_rows": {"type": "boolean", "default": False},
                        "encoding": {"type": "string", "enum": ["utf-8", "cp932"]},
                        "delimiter": {"type": "string", "enum": ["comma", "tab", "semicolon"]},
                        "sheet": {"type": "string"},
                    },
                }
            }
        },
    }
}


class UploadTooLarge(BansoError):
    status_code = 413

    def as_dict(self) -> dict[str, Any]:
        return {"error": "too_large", "message": str(self)}


def _too_large(limit_mb: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"the upload is larger than {limit_mb} MB (BANSO_MAX_UPLOAD_MB); split the file or "
        "import it with `banso import` on the server"
    )


async def _limited(request: Request, limit: int, limit_mb: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit_mb)
        yield chunk


async def _read_form(request: Request, limit_mb: int) -> FormData:
    """Parse the multipart body, refusing it as soon as it passes the size limit."""
    limit = limit_mb * 1024 * 1024 + _MULTIPART_OVERHEAD
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large(limit_mb)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput.one("body", "send the file as multipart/form-data (field 'file')")
    parser = MultiPartParser(request.headers, _limited(request, limit, limit_mb), max_files=1)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput.one("body", exc.message) from None


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return value.strip() or None


def _flag(form: FormData, name: str) -> bool:
    return (_text(form, name) or "").lower() in _TRUE


def _pairs(form: FormData) -> dict[str, str] | None:
    raw = _text(form, "mapping")
    if raw is None:
        return None
    try:
        pairs = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput.one("mapping", f"is not JSON ({exc.msg})") from None
    if not isinstance(pairs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in pairs.items()
    ):
        raise InvalidInput.one("mapping", 'must be a JSON object {"Column": "field"}')
    return pairs


def _failed(report: ImportReport) -> JSONResponse:
    errors = [e.as_dict() for r in report.rejected for e in r.errors]
    body = {
        "error": "invalid_input",
        "message": f"{report.counts['rejected']} rows were rejected, so nothing was imported; "
        "fix them or send skip_bad_rows=true",
        "errors": errors,
        "report": report.as_dict(),
    }
    return JSONResponse(body, status_code=422)


@router.post("/imports/{entity}", tags=["imports"], openapi_extra=_IMPORT_FORM)
async def import_file(
    entity: str,
    request: Request,
    session: Annotated[Session, Depends(get_session, scope="function")],
    actor: WriterDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Import a CSV or .xlsx file (multipart: ``file`` plus options) and report per row.

    All or nothing unless ``skip_bad_rows``; ``dry_run`` writes nothing. The report lists the
    first 1,000 rows and every rejected row (up to 1,000) with reasons naming row and column.
    """
    name = service.entity_or_error(entity)
    form = await _read_form(request, settings.max_upload_mb)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput.one("file", "attach the CSV or .xlsx file as the form field 'file'")
    options = ImportOptions(
        system=_text(form, "system"),
        dry_run=_flag(form, "dry_run"),
        skip_bad_rows=_flag(form, "skip_bad_rows"),
        encoding=_text(form, "encoding"),
        delimiter=_text(form, "delimiter"),
        sheet=_text(form, "sheet"),
    )
    with tempfile.TemporaryDirectory(prefix="banso-import-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
        await upload.close()
        report = await run_in_threadpool(
            _run, session, actor, name, path, form, options, upload.filename, settings.timezone
        )
    if report.counts["rejected"] and not report.written and not options.dry_run:
        return _failed(report)
    return JSONResponse(report.as_dict())


def _run(
    session: Session,
    actor: Any,
    entity: str,
    path: Path,
    form: FormData,
    options: ImportOptions,
    file_name: str | None,
    timezone: str,
) -> ImportReport:
    mapping = service.build_mapping(
        session,
        entity,
        profile=_text(form, "profile"),
        preset=_text(form, "preset"),
        pairs=_pairs(form),
        system=options.system,
    )
    return service.run_import(
        session, actor, entity, path, mapping, options, file_name=file_name, timezone=timezone
    )


@router.get("/exports/{entity}.csv", tags=["imports"], response_class=StreamingResponse)
def export_csv(
    entity: str,
    session: StreamSessionDep,
    _: ReaderDep,
    segment: str | None = None,
    industry: str | None = None,
    lifecycle_stage: str | None = None,
    tag: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
    status: str | None = None,
    stage: str | None = None,
    encoding: str = "utf-8",
) -> StreamingResponse:
    """Download accounts, contacts, contracts or deals as CSV, streamed page by page; the file
    imports back unchanged (POST /imports/{entity})."""
    name = service.entity_or_error(entity)
    codec = exporter.codec_of(encoding)
    f = exporter.ExportFilter(
        segment=segment,
        industry=industry,
        lifecycle_stage=lifecycle_stage,
        tag=tag,
        owner_id=owner_id,
        account_id=account_id,
        status=status,
        stage=stage,
    )
    data = exporter.export(session, name, f)
    charset = "shift_jis" if codec == "cp932" else "utf-8"
    return StreamingResponse(
        exporter.csv_chunks(data, encoding),
        media_type=f"text/csv; charset={charset}",
        headers={"Content-Disposition": f'attachment; filename="{name}s.csv"'},
    )
