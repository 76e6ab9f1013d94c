"""Fields an admin adds at runtime, with labels in Japanese and English, validated on write."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import cast, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from banso.accounts.models import ENTITIES, CustomFieldDefinition
from banso.audit.service import Actor, record, snapshot
from banso.auth.models import User
from banso.errors import Conflict, FieldError, InvalidInput, NotFound
from banso.money import parse_amount
from banso.text import Label, OptionalLong

FIELD_TYPES = (
    "text",
    "long_text",
    "number",
    "money",
    "date",
    "single_choice",
    "multi_choice",
    "user",
    "url",
    "checkbox",
)
FieldType = Literal[
    "text",
    "long_text",
    "number",
    "money",
    "date",
    "single_choice",
    "multi_choice",
    "user",
    "url",
    "checkbox",
]
Entity = Literal["account", "contact", "contract", "deal"]

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_TRUE = {"true", "1", "yes", "y", "on", "はい", "○", "✓", "x"}
_FALSE = {"false", "0", "no", "n", "off", "いいえ", "", "-"}


class CustomFieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: Entity = "account"
    key: str
    type: FieldType
    label_ja: Label
    label_en: Label
    choices: list[Label] | None = None
    required: bool = False
    position: int = Field(default=0, ge=0, le=100_000)
    help_text: OptionalLong = None

    @field_validator("key")
    @classmethod
    def _key_shape(cls, value: str) -> str:
        if not _KEY_RE.match(value):
            raise ValueError("use lower-case letters, digits and _ (start with a letter, ≤64)")
        return value

    @model_validator(mode="after")
    def _choices_match_type(self) -> CustomFieldIn:
        is_choice = self.type in ("single_choice", "multi_choice")
        if is_choice and not self.choices:
            raise ValueError(f"a {self.type} field needs at least one choice")
        if not is_choice and self.choices:
            raise ValueError(f"a {self.type} field takes no choices")
        if self.choices and len(set(self.choices)) != len(self.choices):
            raise ValueError("choices must be unique")
        return self


class CustomFieldUpdate(BaseModel):
    """Only the fields sent change; the key, type and entity of a field are fixed."""

    model_config = ConfigDict(extra="forbid")

    label_ja: Label | None = None
    label_en: Label | None = None
    choices: list[Label] | None = None
    required: bool | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)
    help_text: OptionalLong = None
    version: int = Field(description="The version you read; a stale one gets 409.")

    @model_validator(mode="after")
    def _no_null_for_required_columns(self) -> CustomFieldUpdate:
        for name in ("label_ja", "label_en", "required", "position"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


def definitions(session: Session, entity: str) -> list[CustomFieldDefinition]:
    stmt = (
        select(CustomFieldDefinition)
        .where(CustomFieldDefinition.entity == entity)
        .order_by(CustomFieldDefinition.position, CustomFieldDefinition.id)
    )
    return list(session.scalars(stmt))


def create_definition(session: Session, actor: Actor, data: CustomFieldIn) -> CustomFieldDefinition:
    existing = session.scalar(
        select(CustomFieldDefinition).where(
            CustomFieldDefinition.entity == data.entity, CustomFieldDefinition.key == data.key
        )
    )
    if existing is not None:
        raise Conflict(f"a custom field {data.key!r} already exists for {data.entity}")
    definition = CustomFieldDefinition(**data.model_dump())
    session.add(definition)
    session.flush()
    record(session, actor, "create", "custom_field", definition.id, None, snapshot(definition))
    return definition


def get_definition(session: Session, definition_id: int) -> CustomFieldDefinition:
    definition = (
        session.get(CustomFieldDefinition, definition_id) if 1 <= definition_id < 2**31 else None
    )
    if definition is None:
        raise NotFound("custom field", definition_id)
    return definition


def update_definition(
    session: Session, actor: Actor, definition_id: int, data: CustomFieldUpdate
) -> CustomFieldDefinition:
    definition = get_definition(session, definition_id)
    if definition.version != data.version:
        raise Conflict("the custom field was changed by someone else", snapshot(definition))
    before = snapshot(definition)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if "choices" in changes and definition.type not in ("single_choice", "multi_choice"):
        raise InvalidInput.one("choices", f"a {definition.type} field takes no choices")
    if "choices" in changes and not changes["choices"]:
        raise InvalidInput.one("choices", "a choice field needs at least one choice")
    if changes.get("choices") and len(set(changes["choices"])) != len(changes["choices"]):
        raise InvalidInput.one("choices", "choices must be unique")
    for key, value in changes.items():
        setattr(definition, key, value)
    session.flush()
    record(session, actor, "update", "custom_field", definition.id, before, snapshot(definition))
    return definition


def _table_of(entity: str) -> Any:
    """The mapped class whose ``custom`` column holds the values of ``entity``'s fields."""
    from banso.accounts.models import Account, Contact
    from banso.contracts.models import Contract
    from banso.deals.models import Deal

    return {"account": Account, "contact": Contact, "contract": Contract, "deal": Deal}[entity]


def stored_values(session: Session, definition: CustomFieldDefinition) -> int:
    """How many records hold a value for this field (what deleting it would hide)."""
    column = _table_of(definition.entity).custom
    if session.get_bind().dialect.name == "postgresql":
        has_value = cast(column, postgresql.JSONB).has_key(definition.key)
    else:
        # The key passed the key check: lower-case letters, digits and _.
        has_value = func.json_type(column, f'$."{definition.key}"').is_not(None)
    return session.scalar(select(func.count()).where(has_value)) or 0


def delete_definition(session: Session, actor: Actor, definition_id: int) -> None:
    """Remove the definition; stored values stay in the records (shown under 'unknown fields')."""
    definition = get_definition(session, definition_id)
    record(session, actor, "delete", "custom_field", definition.id, snapshot(definition), None)
    session.delete(definition)
    session.flush()


def _coerce(definition: CustomFieldDefinition, value: Any, session: Session) -> Any:
    kind = definition.type
    if kind in ("text", "long_text"):
        if not isinstance(value, str):
            raise ValueError("must be text")
        limit = 1000 if kind == "text" else 100_000
        if len(value) > limit:
            raise ValueError(f"is longer than {limit} characters")
        if "\x00" in value:
            raise ValueError("contains a NUL character")
        return value
    if kind == "number":
        return _number(value)
    if kind == "money":
        return _money(value, session.info.get("currency", "JPY"))
    if kind == "date":
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str):
            raise ValueError("must be a date (YYYY-MM-DD)")
        return date.fromisoformat(value.strip().replace("/", "-")).isoformat()
    if kind == "single_choice":
        if value not in (definition.choices or []):
            raise ValueError(f"must be one of {definition.choices}")
        return value
    if kind == "multi_choice":
        if isinstance(value, str):
            value = [part.strip() for part in re.split(r"[;,、]", value) if part.strip()]
        if not isinstance(value, list):
            raise ValueError("must be a list of choices")
        bad = [v for v in value if v not in (definition.choices or [])]
        if bad:
            raise ValueError(f"{bad} not among {definition.choices}")
        return list(dict.fromkeys(value))
    if kind == "user":
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a user id")
        if not 1 <= value < 2**31 or session.get(User, value) is None:
            raise ValueError(f"user {value} does not exist")
        return value
    if kind == "url":
        if not isinstance(value, str) or not _URL_RE.match(value.strip()) or len(value) > 2000:
            raise ValueError("must be an http(s) URL")
        return value.strip()
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        text = str(value).strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("must be true or false")
    raise ValueError(f"unknown field type {kind}")  # pragma: no cover - guarded by FieldType


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, str):
        try:
            value = float(value.replace(",", ""))
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    if not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    if isinstance(value, int):
        return value
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _money(value: Any, currency: str) -> int:
    if isinstance(value, bool | float):
        raise ValueError(
            "must be a whole number of minor units (e.g. yen), not a float; "
            "send 1200 or the text '1,200'"
        )
    if isinstance(value, str):
        try:
            return parse_amount(value, currency)
        except ArithmeticError:  # 'Infinity', 'NaN' and friends
            raise ValueError(f"{value!r} is not an amount") from None
    if not isinstance(value, int):
        raise ValueError("must be an amount in minor units (e.g. yen)")
    return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def parse_filter(
    session: Session, entity: str, key: str, raw: str
) -> tuple[CustomFieldDefinition, Any]:
    """Check the list filter ``custom.<key>=raw``; return the definition and the stored form.

    The value is None for an empty ``raw`` ("the field is not set"), except on checkboxes.
    """
    where = f"custom.{key}"
    definition = session.scalar(
        select(CustomFieldDefinition).where(
            CustomFieldDefinition.entity == entity, CustomFieldDefinition.key == key
        )
    )
    if definition is None:
        raise InvalidInput.one(where, f"no custom field {key!r} for {entity}; check the key")
    if "\x00" in raw:
        raise InvalidInput.one(where, "contains a NUL character (\\x00); remove it")
    if not raw.strip() and definition.type != "checkbox":
        return definition, None
    try:
        value = _coerce(definition, raw, session)
    except ValueError as exc:
        label = f"{definition.label_en} / {definition.label_ja}"
        raise InvalidInput.one(where, f"{label}: {exc}") from exc
    return definition, value


def validate_custom(
    session: Session,
    entity: str,
    values: dict[str, Any],
    existing: dict[str, Any] | None = None,
    *,
    defs: list[CustomFieldDefinition] | None = None,
) -> dict[str, Any]:
    """Check and normalise ``values``; merge them over ``existing``. None removes a value."""
    assert entity in ENTITIES
    by_key = {d.key: d for d in (defs if defs is not None else definitions(session, entity))}
    result = dict(existing or {})
    errors: list[FieldError] = []
    for key, value in values.items():
        definition = by_key.get(key)
        if definition is None:
            errors.append(FieldError(f"custom.{key}", f"no custom field {key!r} for {entity}"))
            continue
        if value is None or (
            isinstance(value, str) and not value.strip() and definition.type != "checkbox"
        ):
            result.pop(key, None)
            continue
        try:
            if _has_nul(value):
                raise ValueError("contains a NUL character (\\x00), which cannot be stored")
            result[key] = _coerce(definition, value, session)
        except ValueError as exc:
            label = f"{definition.label_en} / {definition.label_ja}"
            errors.append(FieldError(f"custom.{key}", f"{label}: {exc}"))
    for definition in by_key.values():
        if definition.required and definition.key not in result:
            errors.append(FieldError(f"custom.{definition.key}", "is required"))
    if errors:
        raise InvalidInput(errors)
    return result
