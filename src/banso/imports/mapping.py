"""Column mappings: which column of a file fills which banso field.

A mapping comes from a saved profile, a shipped preset (Salesforce, HubSpot), ``Col=field``
pairs, or — when none is given — from headers that already are banso field names (as in
banso's own exports). It is checked against the file's header before any row is read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from banso.errors import FieldError, InvalidInput
from banso.imports.fields import FieldSpec, field_names, field_spec

PRESETS_DIR = Path(__file__).parent / "presets"
_SYSTEM_RE = re.compile(r"^[a-z][a-z0-9_\-]{0,49}$")
_LABELLED = re.compile(r"\(([a-z_][a-z0-9_.\-]*)\)\s*$")


@dataclass
class Mapping:
    """{source column → banso field}, the external-id system and value translations."""

    entity: str
    columns: dict[str, str]
    system: str | None = None
    # {field: {value as in the file: banso value}}, e.g. Salesforce stage names → stage keys.
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    origin: str = "mapping"
    # Columns a preset knows but a given export may leave out; every other must be present.
    optional: frozenset[str] = frozenset()

    def with_pairs(self, pairs: dict[str, str]) -> Mapping:
        columns = {c: f for c, f in self.columns.items() if f not in pairs.values()}
        return Mapping(
            self.entity,
            {**columns, **pairs},
            self.system,
            self.values,
            self.origin,
            self.optional - set(pairs),
        )


@dataclass(frozen=True)
class BoundField:
    index: int
    column: str
    spec: FieldSpec
    values: dict[str, str] | None = None


@dataclass
class BoundMapping:
    """A mapping checked against one file's header."""

    entity: str
    fields: list[BoundField]
    unmapped: list[str]
    system: str | None

    def column_of(self, target: str) -> str:
        """The source column(s) that fill a field, for error messages."""
        names = [b.column for b in self.fields if target in (b.spec.name, b.spec.target)]
        return " + ".join(f"'{n}'" for n in names) or f"'{target}'"

    def has(self, name: str) -> bool:
        return any(b.spec.name == name for b in self.fields)


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``['Account Name=name', ...]`` → {column: field}; the last '=' separates them."""
    found: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise InvalidInput.one("map", f"{pair!r} is not 'Column=field'")
        found[column.strip()] = target.strip()
    return found


def check_system(system: str | None) -> str | None:
    if system is None or system == "":
        return None
    if not _SYSTEM_RE.match(system):
        raise InvalidInput.one(
            "system", f"{system!r}: use lower-case letters, digits, - and _ (e.g. salesforce)"
        )
    return system


@cache
def _preset_file(name: str) -> dict[str, Any]:
    path = PRESETS_DIR / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def preset(name: str, entity: str) -> Mapping:
    """The shipped mapping of ``name`` (salesforce, hubspot) for ``entity``."""
    key = name.strip().lower()
    if key not in preset_names():
        raise InvalidInput.one("preset", f"no preset {name!r}; use one of {preset_names()}")
    data = _preset_file(key)
    part = data["entities"].get(entity)
    if part is None:
        shipped = ", ".join(data["entities"])
        raise InvalidInput.one(
            "preset", f"the {key} preset maps {shipped}, not {entity}s; pass --map 'Column=field'"
        )
    columns = dict(part["columns"])
    return Mapping(entity, columns, data["system"], part.get("values", {}), key, frozenset(columns))


def from_options(entity: str, columns: dict[str, str], options: dict[str, Any]) -> Mapping:
    """A mapping saved in a profile (its options hold the system and value translations)."""
    return Mapping(entity, dict(columns), options.get("system"), dict(options.get("values", {})))


def auto(entity: str, header: list[str]) -> Mapping:
    """Columns named after banso fields ('name', 'Plan / プラン (custom.plan)') map themselves."""
    columns: dict[str, str] = {}
    for column in header:
        labelled = _LABELLED.search(column)
        candidate = labelled.group(1) if labelled else column.strip().lower()
        spec = field_spec(entity, candidate)
        if spec is not None and candidate != "external_id":
            columns[column] = candidate
    return Mapping(entity, columns, origin="header")


def _duplicates(header: list[str]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for index, column in enumerate(header):
        seen.setdefault(column, []).append(index + 1)
    return {c: ix for c, ix in seen.items() if len(ix) > 1}


def bind(mapping: Mapping, header: list[str]) -> BoundMapping:
    """Check ``mapping`` against the header; every problem is reported before a row is read."""
    errors: list[FieldError] = []
    positions = {column: i for i, column in reversed(list(enumerate(header)))}
    twice = _duplicates(header)
    bound: list[BoundField] = []
    used: dict[str, str] = {}
    for column, name in mapping.columns.items():
        where = f"mapping '{column}'"
        spec = field_spec(mapping.entity, name)
        if spec is None:
            fields = ", ".join(field_names(mapping.entity))
            errors.append(FieldError(where, f"{name!r} is not a {mapping.entity} field ({fields})"))
            continue
        if column not in positions and column in mapping.optional:
            continue
        if column not in positions:
            errors.append(
                FieldError(
                    where,
                    f"the file has no column {column!r}; its columns are "
                    + ", ".join(repr(h) for h in header if h),
                )
            )
            continue
        if column in twice:
            errors.append(
                FieldError(
                    where,
                    f"the file has {len(twice[column])} columns named {column!r} "
                    f"(columns {twice[column]}); rename them",
                )
            )
            continue
        if name in used:
            errors.append(FieldError(where, f"{name!r} is already filled from '{used[name]}'"))
            continue
        used[name] = column
        bound.append(BoundField(positions[column], column, spec, mapping.values.get(name)))
    errors.extend(_check_combination(mapping, used))
    if errors:
        raise InvalidInput(errors)
    mapped = set(mapping.columns)
    unmapped = [h for h in header if h and h not in mapped]
    return BoundMapping(mapping.entity, bound, unmapped, mapping.system)


def _check_combination(mapping: Mapping, used: dict[str, str]) -> list[FieldError]:
    errors = []
    if not used:
        errors.append(
            FieldError(
                "mapping",
                "no column is mapped to a banso field; pass --map 'Column=field', --preset "
                "or --profile",
            )
        )
    needs_system = [n for n in used if n in ("external_id", "account_external_id")]
    if needs_system and mapping.system is None:
        errors.append(
            FieldError(
                "system",
                f"{', '.join(needs_system)} needs the system the ids come from; "
                "pass --system (e.g. salesforce)",
            )
        )
    for name in used:
        if name.startswith("external_id."):
            system = name.partition(".")[2]
            if not _SYSTEM_RE.match(system):
                errors.append(
                    FieldError(f"mapping '{used[name]}'", f"{system!r} is not a system name")
                )
    return errors
