"""The import loop shared by every entity: read rows in chunks, check, compare, write in bulk.

Per chunk of ~2,000 rows: every cell is parsed in Python; the records the rows refer to are
found with one query per kind (external ids, banso ids, accounts); each row is compared with
what is stored, so an unchanged row writes nothing; then created rows go in with one bulk
INSERT per table, changed rows with one executemany UPDATE per set of changed columns, and
the audit entries with one bulk insert. The whole file runs in one SAVEPOINT, rolled back for
a dry run or when a row is rejected (unless bad rows are to be skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.externalids import external_ids_of
from banso.accounts.models import CustomFieldDefinition, ExternalId
from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.db import utcnow
from banso.errors import FieldError, InvalidInput
from banso.imports import values as v
from banso.imports.bulk import insert_rows
from banso.imports.mapping import BoundMapping

CHUNK_ROWS = 2_000
DETAIL_ROWS = 1_000
Progress = Callable[[int, int, int], None]
RejectSink = Callable[[list[str], int, list[Any], list[FieldError]], None]


@dataclass
class ImportOptions:
    system: str | None = None
    dry_run: bool = False
    skip_bad_rows: bool = False
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    today: date | None = None
    detail_rows: int = DETAIL_ROWS


@dataclass
class RowResult:
    row: int
    action: str  # created | updated | unchanged | rejected
    record_id: int | None = None
    changed: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"row": self.row, "action": self.action, "id": self.record_id}
        if self.changed:
            body["changed"] = self.changed
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


@dataclass
class ImportReport:
    entity: str
    file: str
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    system: str | None = None
    dry_run: bool = False
    skip_bad_rows: bool = False
    mapped: dict[str, str] = field(default_factory=dict)
    unmapped_columns: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "rows": 0,
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
        }
    )
    details: list[RowResult] = field(default_factory=list)
    rejected: list[RowResult] = field(default_factory=list)
    written: bool = False
    seconds: float = 0.0
    detail_rows: int = DETAIL_ROWS

    def add(self, result: RowResult) -> None:
        if self.dry_run and result.action == "created":
            result.record_id = None  # the id was only reserved inside the rolled-back run
        self.counts["rows"] += 1
        self.counts[result.action] += 1
        if len(self.details) < self.detail_rows:
            self.details.append(result)
        if result.action == "rejected" and len(self.rejected) < self.detail_rows:
            self.rejected.append(result)

    @property
    def rows_per_second(self) -> float:
        return self.counts["rows"] / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "system": self.system,
            "dry_run": self.dry_run,
            "skip_bad_rows": self.skip_bad_rows,
            "written": self.written,
            "counts": dict(self.counts),
            "mapped": dict(self.mapped),
            "unmapped_columns": list(self.unmapped_columns),
            "rejected": [r.as_dict() for r in self.rejected],
            "rows": [r.as_dict() for r in self.details],
            "rows_shown": len(self.details),
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Row:
    """One data row on its way in: parsed values, the record it matches, its problems."""

    number: int
    cells: list[Any]
    given: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, str | None] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    ext: dict[str, str] = field(default_factory=dict)
    id: int | None = None
    target: int | None = None
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, column: str, message: str) -> None:
        self.errors.append(FieldError(f"row {self.number}, column {column}", message))


@dataclass
class Context:
    session: Session
    actor: Actor
    entity: str
    bound: BoundMapping
    options: ImportOptions
    currency: str
    today: date
    defs: list[CustomFieldDefinition]
    header_width: int


@dataclass
class Planned:
    row: Row
    before: dict[str, Any] | None
    state: dict[str, Any]
    changed: list[str]


class Importer:
    """What differs between accounts, contacts, contracts and deals; the loop is in run_import."""

    entity = ""
    table: Table
    columns: tuple[str, ...] = ()
    derived: tuple[str, ...] = ()
    # (state key, what to tell the user when a new record lacks it)
    required: tuple[tuple[str, str], ...] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.session = ctx.session

    # --- hooks, overridden per entity -------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        return {"custom": {}}

    def lookup(self, name: str, value: Any) -> Any:
        raise ValueError(f"{name} cannot be looked up")  # pragma: no cover - per entity

    def resolve_refs(self, rows: list[Row]) -> None:
        """Turn references to other records into ids (one query per kind per chunk)."""

    def load_extras(self, ids: list[int], states: dict[int, dict[str, Any]]) -> None:
        """Add collections (domains, tags) to the stored states."""

    def finalize(self, state: dict[str, Any], before: dict[str, Any] | None, row: Row) -> None:
        """Derived columns, amounts in minor units and checks across fields (row.fail)."""

    def write_extras(self, created: list[tuple[int, Planned]], updated: list[Planned]) -> None:
        """Write collections and side tables (domains, movements) for the chunk."""

    # --- shared -----------------------------------------------------------------------
    def parse(self, number: int, cells: list[Any]) -> Row:
        row = Row(number, cells)
        width = self.ctx.header_width
        if len(cells) > width and not v.is_empty_all(cells[width:]):
            row.errors.append(
                FieldError(
                    f"row {number}",
                    f"has {len(cells)} cells but the header names {width} columns; "
                    "check the quoting of this row",
                )
            )
            return row
        for bound in self.ctx.bound.fields:
            raw = cells[bound.index] if bound.index < len(cells) else None
            if bound.values and not v.is_empty(raw):
                raw = _translate(raw, bound.values)
            try:
                self._place(row, bound.spec, bound.spec.parse(raw))
            except ValueError as exc:
                row.fail(f"'{bound.column}' ({bound.spec.name})", str(exc))
        if row.parts:
            self._combine_names(row)
        return row

    def _place(self, row: Row, spec: Any, value: Any) -> None:
        kind = spec.kind
        if kind == "id":
            row.id = value
        elif kind in ("column", "list", "amount"):
            row.given[spec.target] = value
        elif kind == "lookup":
            row.given[spec.target] = None if value is None else self.lookup(spec.name, value)
        elif kind == "ref":
            if value is not None:
                row.refs[spec.name] = value
        elif kind == "name_part":
            row.parts[spec.name] = value
        elif kind == "external_id":
            if value is not None:
                row.ext[spec.target or self.ctx.bound.system or ""] = value
        elif kind == "custom":
            row.custom[spec.target] = value

    def _combine_names(self, row: Row) -> None:
        p = row.parts
        if row.given.get("name") is None and ("last_name" in p or "first_name" in p):
            row.given["name"] = v.full_name(p.get("last_name"), p.get("first_name"))
        if row.given.get("name_kana") is None and ("last_name_kana" in p or "first_name_kana" in p):
            row.given["name_kana"] = v.kana_name(p.get("last_name_kana"), p.get("first_name_kana"))

    def stored(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """The current state of these records, in the same shape as an incoming row."""
        if not ids:
            return {}
        cols = [self.table.c.id, *(self.table.c[c] for c in (*self.columns, *self.derived))]
        states: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 1000):
            stmt = select(*cols).where(self.table.c.id.in_(ids[start : start + 1000]))
            for mapping in self.session.execute(stmt).mappings():
                state = dict(mapping)
                state["custom"] = state.get("custom") or {}
                states[state.pop("id")] = state
        ext = external_ids_of(self.session, self.entity, ids)
        for record_id, state in states.items():
            state["external_ids"] = dict(ext.get(record_id, {}))
        self.load_extras(ids, states)
        return states

    def view(self, record_id: int, state: dict[str, Any]) -> dict[str, Any]:
        """What the audit log keeps: the record's fields as a user sees them."""
        shown: dict[str, Any] = {"id": record_id}
        for key, val in state.items():
            if key in self.derived:
                continue
            # Only dates need converting: custom values are JSON already (validate_custom).
            shown[key] = val.isoformat() if isinstance(val, date) else val
        return shown


def find_external(
    session: Session, entity: str, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Like accounts.externalids.find_many, but one ``value IN (...)`` per system: PostgreSQL
    answers that from the (entity, system, value) index, while a list of row values makes it
    scan the whole table once per chunk."""
    by_system: dict[str, list[str]] = {}
    for system, value in pairs:
        by_system.setdefault(system, []).append(value)
    found: dict[tuple[str, str], int] = {}
    for system, wanted in by_system.items():
        for start in range(0, len(wanted), 1000):
            stmt = select(ExternalId.value, ExternalId.entity_id).where(
                ExternalId.entity == entity,
                ExternalId.system == system,
                ExternalId.value.in_(wanted[start : start + 1000]),
            )
            for value, entity_id in session.execute(stmt):
                found[(system, value)] = entity_id
    return found


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """Ids for ``count`` new rows, so they go in with one executemany and no RETURNING.

    PostgreSQL hands out numbers from the table's sequence. SQLite continues after the largest
    id: a concurrent writer cannot slip in, because once this transaction has written it
    holds SQLite's only write lock, and before that a stale snapshot cannot write at all.
    """
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        stmt = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return sorted(session.scalars(stmt))
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(start + 1, start + 1 + count))


def _translate(raw: Any, table: dict[str, str]) -> Any:
    text = v.as_text(raw).strip()
    if text in table:
        return table[text]
    folded = text.casefold()
    for source, target in table.items():
        if source.casefold() == folded:
            return target
    return raw


def chunks(
    rows: Iterator[tuple[int, list[Any]]], size: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class SeenRecords:
    """The records this import has already matched or created, one bit per record id.

    A record named by two rows of one file (same banso id or external id) is refused at the
    second row. Within a chunk the keys themselves are compared; across chunks the second row
    finds the record the first one created or matched, and its bit is set. The bitmap grows
    with the table's largest id (1 MB per 8 million records), not with the file.
    """

    def __init__(self) -> None:
        self._bits = bytearray()

    def mark(self, record_id: int) -> None:
        byte = record_id >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte - len(self._bits) + 4096))
        self._bits[byte] |= 1 << (record_id & 7)

    def __contains__(self, record_id: int) -> bool:
        byte = record_id >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (record_id & 7)))


def _keys(row: Row) -> list[tuple[str, str]]:
    keys = [("", str(row.id))] if row.id is not None else []
    return keys + sorted(row.ext.items())


class ChunkWriter:
    """Runs one chunk through match → merge → compare → write."""

    def __init__(self, importer: Importer, seen: SeenRecords) -> None:
        self.imp = importer
        self.ctx = importer.ctx
        self.session = importer.session
        self.seen = seen

    def run(self, chunk: list[tuple[int, list[Any]]]) -> list[RowResult]:
        rows = [self.imp.parse(number, cells) for number, cells in chunk]
        good = [r for r in rows if not r.errors]
        self.imp.resolve_refs(good)
        self._match([r for r in good if not r.errors])
        matched = [r for r in good if not r.errors]
        stored = self.imp.stored(sorted({r.target for r in matched if r.target is not None}))
        plans = [p for p in (self._plan(r, stored) for r in matched) if p is not None]
        created = self._insert([p for p in plans if p.before is None])
        updated = [p for p in plans if p.before is not None and p.changed]
        self._update(updated)
        self.imp.write_extras(created, updated)
        self._audit(created, updated)
        for plan in plans:
            assert plan.row.target is not None
            self.seen.mark(plan.row.target)
        by_row = {id(p.row): p for p in plans}
        return [self._result(r, by_row) for r in rows]

    def _match(self, rows: list[Row]) -> None:
        entity, table = self.imp.entity, self.imp.table
        ids = sorted({r.id for r in rows if r.id is not None and 1 <= r.id < 2**31})
        known = (
            set(self.session.scalars(select(table.c.id).where(table.c.id.in_(ids))))
            if ids
            else set()
        )
        pairs = sorted({(s, val) for r in rows for s, val in r.ext.items()})
        found = find_external(self.session, entity, pairs) if pairs else {}
        id_column = self.ctx.bound.column_of("id")
        in_chunk: dict[tuple[str, str], int] = {}
        for row in rows:
            keys = _keys(row)
            earlier = next((in_chunk[k] for k in keys if k in in_chunk), None)
            in_chunk.update((k, row.number) for k in keys if k not in in_chunk)
            if earlier is not None:
                self._twice(row, f"row {earlier}")
                continue
            owners = {found[(s, val)] for s, val in row.ext.items() if (s, val) in found}
            if row.id is not None:
                if row.id not in known:
                    row.fail(f"{id_column} (id)", f"no {entity} has id {row.id}")
                    continue
                owners.add(row.id)
            if len(owners) > 1:
                row.errors.append(
                    FieldError(
                        f"row {row.number}",
                        f"its ids belong to different {entity}s ({sorted(owners)}); fix the ids",
                    )
                )
                continue
            row.target = owners.pop() if owners else None
            if row.target is not None and row.target in self.seen:
                self._twice(row, "an earlier row of this file")

    def _twice(self, row: Row, earlier: str) -> None:
        row.errors.append(
            FieldError(
                f"row {row.number}",
                f"identifies the same {self.imp.entity} as {earlier}; keep one of them",
            )
        )

    def _plan(self, row: Row, stored: dict[int, dict[str, Any]]) -> Planned | None:
        before = stored.get(row.target) if row.target is not None else None
        state = dict(before) if before is not None else self.imp.defaults()
        state.update(row.given)
        state["external_ids"] = {**(before or {}).get("external_ids", {}), **row.ext}
        self._custom(row, state, before)
        self.imp.finalize(state, before, row)
        if before is None:
            for key, message in self.imp.required:
                if v.is_empty(state.get(key)):
                    row.fail(self.ctx.bound.column_of(key), message)
        else:
            for key, _message in self.imp.required:
                if key in row.given and v.is_empty(state.get(key)):
                    row.fail(
                        self.ctx.bound.column_of(key), "is empty; this field cannot be cleared"
                    )
        if row.errors:
            return None
        changed = []
        if before is not None:
            changed = [k for k in state if k not in self.imp.derived and state[k] != before.get(k)]
        return Planned(row, before, state, changed)

    def _custom(self, row: Row, state: dict[str, Any], before: dict[str, Any] | None) -> None:
        if not row.custom and (before is not None or not self.ctx.defs):
            return
        existing = before["custom"] if before is not None else {}
        values = _adapt_custom(row.custom, self.ctx.defs)
        try:
            state["custom"] = customfields.validate_custom(
                self.session, self.imp.entity, values, existing, defs=self.ctx.defs
            )
        except InvalidInput as exc:
            for error in exc.errors:
                row.fail(self.ctx.bound.column_of(error.field), error.message)

    def _insert(self, plans: list[Planned]) -> list[tuple[int, Planned]]:
        if not plans:
            return []
        now = utcnow()
        table = self.imp.table
        cols = (*self.imp.columns, *self.imp.derived)
        params = [
            {
                **{c: p.state.get(c) for c in cols},
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for p in plans
        ]
        ids = allocate_ids(self.session, table, len(plans))
        for record_id, row in zip(ids, params, strict=True):
            row["id"] = record_id
        insert_rows(self.session, table, params)
        created = list(zip(ids, plans, strict=True))
        self._insert_external_ids([(i, p.state["external_ids"]) for i, p in created])
        return created

    def _insert_external_ids(self, items: list[tuple[int, dict[str, str]]]) -> None:
        now = utcnow()
        rows = [
            {
                "entity": self.imp.entity,
                "entity_id": i,
                "system": s,
                "value": val,
                "created_at": now,
            }
            for i, ids in items
            for s, val in ids.items()
        ]
        if rows:
            insert_rows(self.session, ExternalId.__table__, rows)  # type: ignore[arg-type]

    def _update(self, plans: list[Planned]) -> None:
        if not plans:
            return
        table = self.imp.table
        writable = set(self.imp.columns) | set(self.imp.derived)
        groups: dict[tuple[str, ...], list[Planned]] = {}
        for plan in plans:
            before = plan.before or {}
            changed = sorted(
                k for k in plan.state if k in writable and plan.state[k] != before.get(k)
            )
            groups.setdefault(tuple(changed), []).append(plan)
        now = utcnow()
        for cols, members in groups.items():
            stmt = (
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    {
                        **{c: bindparam(f"b_{c}") for c in cols},
                        "version": table.c.version + 1,
                        "updated_at": now,
                    }
                )
            )
            params = [
                {"b_id": p.row.target, **{f"b_{c}": p.state[c] for c in cols}} for p in members
            ]
            self.session.execute(stmt, params)
        self._update_external_ids(plans)

    def _update_external_ids(self, plans: list[Planned]) -> None:
        stale: list[tuple[int, str]] = []
        fresh: list[tuple[int, dict[str, str]]] = []
        for plan in plans:
            old = plan.before["external_ids"] if plan.before else {}
            new = {s: val for s, val in plan.state["external_ids"].items() if old.get(s) != val}
            if new:
                assert plan.row.target is not None
                stale.extend((plan.row.target, s) for s in new)
                fresh.append((plan.row.target, new))
        if stale:
            self.session.execute(
                delete(ExternalId).where(
                    ExternalId.entity == self.imp.entity,
                    tuple_(ExternalId.entity_id, ExternalId.system).in_(stale),
                )
            )
            self._insert_external_ids(fresh)

    def _audit(self, created: list[tuple[int, Planned]], updated: list[Planned]) -> None:
        entity = self.imp.entity
        entries = [
            {
                "action": "create",
                "entity": entity,
                "entity_id": i,
                "before": None,
                "after": self.imp.view(i, p.state),
            }
            for i, p in created
        ]
        for plan in updated:
            assert plan.row.target is not None and plan.before is not None
            entries.append(
                {
                    "action": "update",
                    "entity": entity,
                    "entity_id": plan.row.target,
                    "before": self.imp.view(plan.row.target, plan.before),
                    "after": self.imp.view(plan.row.target, plan.state),
                }
            )
        actor = self.ctx.actor
        audit_rows = [{"actor": actor.label, "actor_user_id": actor.user_id, **e} for e in entries]
        insert_rows(self.session, AuditEntry.__table__, audit_rows)  # type: ignore[arg-type]
        for i, plan in created:
            plan.row.target = i

    @staticmethod
    def _result(row: Row, by_row: dict[int, Planned]) -> RowResult:
        if row.errors:
            return RowResult(row.number, "rejected", row.target, errors=row.errors)
        plan = by_row[id(row)]
        if plan.before is None:
            return RowResult(row.number, "created", row.target)
        if plan.changed:
            return RowResult(row.number, "updated", row.target, changed=plan.changed)
        return RowResult(row.number, "unchanged", row.target)


def _adapt_custom(raw: dict[str, Any], defs: list[CustomFieldDefinition]) -> dict[str, Any]:
    """Cells typed by Excel (numbers, dates) into what each custom field's type expects."""
    kinds = {d.key: d.type for d in defs}
    adapted: dict[str, Any] = {}
    for key, value in raw.items():
        kind = kinds.get(key)
        if v.is_empty(value):
            adapted[key] = None  # an empty cell unsets the field, a checkbox too
        elif kind == "date" and isinstance(value, str | int | float) and not v.is_empty(value):
            adapted[key] = _date_text(value)
        elif value is None or isinstance(value, str) or kind is None:
            adapted[key] = value
        elif kind in ("text", "long_text", "url", "single_choice", "multi_choice"):
            adapted[key] = v.as_text(value)
        elif kind == "date" and isinstance(value, date):
            adapted[key] = value.isoformat()
        else:
            adapted[key] = value
    return adapted


def _date_text(value: Any) -> Any:
    """'2026/4/1', '2026年4月1日' or an Excel serial → '2026-04-01' (else left for the check)."""
    try:
        parsed = v.a_date(value)
    except ValueError:
        return value
    return parsed.isoformat() if parsed else value
