"""Export accounts, contacts, contracts or deals to CSV or .xlsx, page by page.

Columns are named after the import fields (custom fields with their labels, e.g.
'Plan type / プラン種別 (custom.plan_type)', external ids as 'external_id.salesforce'), so an
exported file imports back without a mapping and changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.externalids import external_ids_of
from banso.accounts.models import Account, Contact, ExternalId
from banso.accounts.service import AccountFilter, filter_accounts
from banso.auth.models import User
from banso.contracts.models import Contract
from banso.deals.models import Deal
from banso.errors import FieldError, InvalidInput
from banso.imports.fields import entity_of
from banso.money import format_amount

PAGE_ROWS = 1_000
XLSX_CELL_LIMIT = 32_767
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]")
_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")

COLUMNS: dict[str, tuple[str, ...]] = {
    "account": (
        "id", "name", "name_kana", "domains", "industry", "company_size", "segment", "source",
        "owner", "tags", "lifecycle_stage", "mrr",
    ),
    "contact": (
        "id", "account_id", "account_name", "name", "name_kana", "email", "phone", "title",
        "role", "is_key_person",
    ),
    "contract": (
        "id", "account_id", "account_name", "plan", "mrr", "currency", "seats", "start_date",
        "end_date", "auto_renew", "status",
    ),
    "deal": (
        "id", "title", "account_id", "account_name", "contact_email", "company_name",
        "source_channel", "company_size", "problem", "budget", "currency", "expected_mrr",
        "story", "stage", "lost_reason", "lost_reason_text", "owner", "inquiry_date",
        "expected_close_date", "closed_date",
    ),
}  # fmt: skip
MODELS: dict[str, Any] = {
    "account": Account,
    "contact": Contact,
    "contract": Contract,
    "deal": Deal,
}


@dataclass
class ExportFilter:
    """What to export; only the filters that make sense for the entity are used."""

    segment: str | None = None
    industry: str | None = None
    lifecycle_stage: str | None = None
    tag: str | None = None
    owner_id: int | None = None
    account_id: int | None = None
    status: str | None = None
    stage: str | None = None
    custom: dict[str, str] = field(default_factory=dict)


def _filtered(session: Session, entity: str, f: ExportFilter) -> Select[Any]:
    model = MODELS[entity]
    stmt = select(model)
    if entity == "account":
        return filter_accounts(
            session,
            stmt,
            AccountFilter(
                segment=f.segment,
                industry=f.industry,
                lifecycle_stage=f.lifecycle_stage,
                tag=f.tag,
                owner_id=f.owner_id,
                custom=f.custom or None,
            ),
        )
    if f.account_id is not None:
        stmt = stmt.where(model.account_id == f.account_id)
    if entity == "contract" and f.status:
        stmt = stmt.where(Contract.status == f.status)
    if entity == "deal" and f.stage:
        stmt = stmt.where(Deal.stage_key == f.stage)
    if entity == "deal" and f.owner_id is not None:
        stmt = stmt.where(Deal.owner_id == f.owner_id)
    return stmt


@dataclass
class Export:
    header: list[str]
    rows: Iterator[list[Any]]


def export(session: Session, entity: str, f: ExportFilter | None = None) -> Export:
    """The header and a stream of rows (plain Python values) for ``entity``."""
    try:
        entity = entity_of(entity)
    except ValueError as exc:
        raise InvalidInput.one("entity", str(exc)) from None
    f = f or ExportFilter()
    defs = customfields.definitions(session, entity)
    systems = sorted(
        session.scalars(select(ExternalId.system).where(ExternalId.entity == entity).distinct())
    )
    header = [
        *COLUMNS[entity],
        *(f"{d.label_en} / {d.label_ja} (custom.{d.key})" for d in defs),
        *(f"external_id.{s}" for s in systems),
    ]
    stmt = _filtered(session, entity, f)
    return Export(header, _stream(session, entity, stmt, [d.key for d in defs], systems))


def _stream(
    session: Session, entity: str, stmt: Select[Any], keys: list[str], systems: list[str]
) -> Iterator[list[Any]]:
    model = MODELS[entity]
    users = {uid: email for uid, email in session.execute(select(User.id, User.email))}
    last = 0
    while True:
        page = list(
            session.scalars(stmt.where(model.id > last).order_by(model.id).limit(PAGE_ROWS))
        )
        if not page:
            return
        last = page[-1].id
        ids = [r.id for r in page]
        ext = external_ids_of(session, entity, ids)
        extra = _page_extras(session, entity, page)
        for record in page:
            base = _ROW[entity](record, users, extra)
            custom = record.custom or {}
            yield [
                *base,
                *(_custom_cell(custom.get(k)) for k in keys),
                *(ext.get(record.id, {}).get(s) for s in systems),
            ]


def _page_extras(session: Session, entity: str, page: list[Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if entity == "account":
        return extra  # domains and tags come with the accounts (selectin relationships)
    account_ids = sorted({r.account_id for r in page if r.account_id is not None})
    stmt = select(Account.id, Account.name).where(Account.id.in_(account_ids))
    extra["account_names"] = {i: n for i, n in session.execute(stmt)} if account_ids else {}
    if entity == "deal":
        contact_ids = sorted({d.contact_id for d in page if d.contact_id is not None})
        emails = select(Contact.id, Contact.email).where(Contact.id.in_(contact_ids))
        extra["contact_emails"] = dict(list(session.execute(emails))) if contact_ids else {}
    return extra


def _custom_cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _account_row(a: Account, users: dict[int, str], extra: dict[str, Any]) -> list[Any]:
    return [
        a.id, a.name, a.name_kana, "; ".join(sorted(d.domain for d in a.domains)), a.industry,
        a.company_size, a.segment, a.source, users.get(a.owner_id) if a.owner_id else None,
        "; ".join(sorted(t.tag for t in a.tags)), a.lifecycle_stage, a.mrr,
    ]  # fmt: skip


def _contact_row(c: Contact, users: dict[int, str], extra: dict[str, Any]) -> list[Any]:
    return [
        c.id, c.account_id, extra["account_names"].get(c.account_id), c.name, c.name_kana,
        c.email, c.phone, c.title, c.role, _bool(c.is_key_person),
    ]  # fmt: skip


def _contract_row(c: Contract, users: dict[int, str], extra: dict[str, Any]) -> list[Any]:
    return [
        c.id, c.account_id, extra["account_names"].get(c.account_id), c.plan,
        format_amount(c.mrr, c.currency), c.currency, c.seats, c.start_date, c.end_date,
        _bool(c.auto_renew), c.status,
    ]  # fmt: skip


def _money(value: int | None, currency: str) -> str | None:
    return None if value is None else format_amount(value, currency)


def _deal_row(d: Deal, users: dict[int, str], extra: dict[str, Any]) -> list[Any]:
    return [
        d.id, d.title, d.account_id, extra["account_names"].get(d.account_id),
        extra["contact_emails"].get(d.contact_id), d.company_name, d.source_channel,
        d.company_size, d.problem, _money(d.budget, d.currency), d.currency,
        _money(d.expected_mrr, d.currency), d.story, d.stage_key, d.lost_reason_key,
        d.lost_reason_text, users.get(d.owner_id) if d.owner_id else None, d.inquiry_date,
        d.expected_close_date, d.closed_date,
    ]  # fmt: skip


_ROW: dict[str, Callable[[Any, dict[int, str], dict[str, Any]], list[Any]]] = {
    "account": _account_row,
    "contact": _contact_row,
    "contract": _contract_row,
    "deal": _deal_row,
}


# ------------------------------------------------------------------ writers


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(data: Export, encoding: str = "utf-8") -> Iterator[bytes]:
    """CSV bytes a page at a time. UTF-8 starts with a BOM so Excel shows Japanese correctly."""
    codec = codec_of(encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(data.header)
    line = 1
    prefix = "\ufeff" if codec == "utf-8" else ""
    for row in data.rows:
        line += 1
        writer.writerow([_text(v) for v in row])
        if buffer.tell() > 256 * 1024:
            yield _encode(prefix + buffer.getvalue(), codec, data.header, line)
            prefix = ""
            buffer.seek(0)
            buffer.truncate()
    yield _encode(prefix + buffer.getvalue(), codec, data.header, line)


def codec_of(encoding: str) -> str:
    codec = {
        "utf-8": "utf-8",
        "utf8": "utf-8",
        "cp932": "cp932",
        "shift_jis": "cp932",
        "sjis": "cp932",
    }.get(encoding.lower())
    if codec is None:
        raise InvalidInput.one("encoding", f"unknown encoding {encoding!r}; use utf-8 or cp932")
    return codec


def _encode(text: str, codec: str, header: list[str], line: int) -> bytes:
    try:
        return text.encode(codec)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise InvalidInput(
            [
                FieldError(
                    "encoding",
                    f"{bad!r} (near line {line}) cannot be written in Shift_JIS/CP932; "
                    "export as UTF-8 instead",
                )
            ]
        ) from None


def xlsx_cell(value: Any) -> Any:
    """Strings stay strings in Excel: never a formula or an error code, control characters
    escaped the OOXML way (_x0007_), which Excel and banso's importer read back."""
    if not isinstance(value, str):
        return value
    escaped = _ESCAPED.sub(r"_x005F_\1", value)
    return _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", escaped)


def write_xlsx(data: Export, target: IO[bytes] | Path, sheet_title: str = "export") -> int:
    """Write an .xlsx in openpyxl's streaming mode; returns the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(data.header)
    count = 0
    for row in data.rows:
        count += 1
        cells = []
        for column, value in zip(data.header, row, strict=True):
            cell_value = xlsx_cell(value)
            if isinstance(cell_value, str) and len(cell_value) > XLSX_CELL_LIMIT:
                raise InvalidInput.one(
                    f"row {count + 1}, column {column}",
                    f"is {len(cell_value):,} characters; an Excel cell holds {XLSX_CELL_LIMIT:,}. "
                    "Export as CSV instead",
                )
            cell = WriteOnlyCell(sheet, value=cell_value)
            if isinstance(cell_value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)
    return count


def write_file(data: Export, path: Path, encoding: str = "utf-8") -> int:
    """Write ``path`` (.xlsx by its suffix, else CSV); a failed export leaves no file behind."""
    partial = path.with_name(path.name + ".partial")
    try:
        if path.suffix.lower() == ".xlsx":
            count = write_xlsx(data, partial)
        else:
            counter = _Counter(data)
            with partial.open("wb") as out:
                for chunk in csv_chunks(Export(data.header, counter.rows()), encoding):
                    out.write(chunk)
            count = counter.count
        partial.replace(path)
        return count
    finally:
        partial.unlink(missing_ok=True)


class _Counter:
    def __init__(self, data: Export) -> None:
        self.data = data
        self.count = 0

    def rows(self) -> Iterator[list[Any]]:
        for row in self.data.rows:
            self.count += 1
            yield row
