"""What a metric is: a declarative definition, validated, read from and written to YAML.

A definition never contains code. Event metrics say which events count (type, names,
property conditions), how they are aggregated and over how many days; derived metrics combine
other metrics (ratio, trend) or app data (seats, invited contacts, key persons).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from banso.errors import FieldError, InvalidInput

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
MAX_WINDOW_DAYS = 3660
_PROPERTY_KEY = re.compile(r"^[A-Za-z0-9_\-$ぁ-んァ-ヶー一-龠]{1,100}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PropertyCondition(_Strict):
    """``properties.<key> <op> value``; values compare as text (numbers too: ``"2"``)."""

    key: Annotated[str, Field(description="Top-level key of the event's properties.")]
    op: Literal["eq", "ne", "in", "exists"] = "eq"
    value: str | list[str] | None = None

    @field_validator("key")
    @classmethod
    def _plain_key(cls, key: str) -> str:
        if not _PROPERTY_KEY.match(key):
            raise ValueError("use a top-level property name: letters, digits, _ or -")
        return key

    def model_post_init(self, _context: Any) -> None:
        if self.op == "exists" and self.value is not None:
            raise ValueError("op 'exists' takes no value")
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("op 'in' needs a list of values")
        if self.op in ("eq", "ne") and not isinstance(self.value, str):
            raise ValueError(f"op '{self.op}' needs one value (text)")


EventType = Literal["track", "identify", "group", "page", "screen", "alias"]


def _track_only() -> list[EventType]:
    return ["track"]


class EventFilter(_Strict):
    types: list[EventType] = Field(default_factory=_track_only)
    events: list[str] = Field(default_factory=list, description="Event names; empty means any.")
    properties: list[PropertyCondition] = Field(default_factory=list)


class EventMetric(_Strict):
    kind: Literal["events"] = "events"
    filter: EventFilter = Field(default_factory=EventFilter)
    aggregation: Literal[
        "count", "active_users", "active_days", "sessions", "days_since_last", "active_contacts"
    ]
    window_days: Annotated[int | None, Field(ge=1, le=MAX_WINDOW_DAYS)] = Field(
        default=None, description="Days up to and including as_of; empty means all history."
    )


class RatioMetric(_Strict):
    kind: Literal["ratio"] = "ratio"
    numerator: str
    denominator: str


class TrendMetric(_Strict):
    """This period's value of an event metric divided by the previous period's."""

    kind: Literal["trend"] = "trend"
    of: str


class FeatureAdoptionMetric(_Strict):
    kind: Literal["feature_adoption"] = "feature_adoption"
    features: Annotated[list[str], Field(min_length=1, max_length=100)]
    window_days: Annotated[int, Field(ge=1, le=MAX_WINDOW_DAYS)] = 30


class KeyPersonMetric(_Strict):
    """Days since the key persons were last active: the longest (max) or the shortest (min).

    A key person with no event in the window counts as ``window_days``."""

    kind: Literal["key_person"] = "key_person"
    stat: Literal["max", "min"] = "max"
    window_days: Annotated[int, Field(ge=1, le=MAX_WINDOW_DAYS)] = 90


class SeatsMetric(_Strict):
    """Seats of the account's active contracts on as_of (from the contract movements)."""

    kind: Literal["seats"] = "seats"


class InvitedContactsMetric(_Strict):
    """Contacts linked to a product user: the people the product knows (invited)."""

    kind: Literal["invited_contacts"] = "invited_contacts"


Spec = Annotated[
    EventMetric
    | RatioMetric
    | TrendMetric
    | FeatureAdoptionMetric
    | KeyPersonMetric
    | SeatsMetric
    | InvitedContactsMetric,
    Field(discriminator="kind"),
]


class MetricDefinition(_Strict):
    key: Annotated[str, Field(pattern=KEY_PATTERN, description="Stable id, e.g. active_users_7d.")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    unit: Literal["count", "days", "ratio", "users"] = "count"
    spec: Spec


_DEFINITIONS = TypeAdapter(list[MetricDefinition])


def _field_errors(exc: ValidationError, prefix: str) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        where = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "definition")
        out.append(FieldError(where, err["msg"].removeprefix("Value error, ")))
    return out


def parse_definitions(data: Any, where: str = "metrics") -> list[MetricDefinition]:
    """Validate raw data (a list of mappings); raise InvalidInput naming each bad field."""
    if not isinstance(data, list):
        raise InvalidInput.one(where, "expected a list of metric definitions")
    errors: list[FieldError] = []
    parsed: list[MetricDefinition] = []
    for i, item in enumerate(data):
        label = f"{where}[{i}]"
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            label = f"{where}[{item['key']}]"
        try:
            parsed.append(MetricDefinition.model_validate(item))
        except ValidationError as exc:
            errors.extend(_field_errors(exc, label))
    if errors:
        raise InvalidInput(errors)
    check_references(parsed)
    return parsed


def check_references(definitions: list[MetricDefinition]) -> None:
    """Every metric a ratio or trend names exists, keys are unique, no metric refers to itself."""
    errors: list[FieldError] = []
    by_key: dict[str, MetricDefinition] = {}
    for d in definitions:
        if d.key in by_key:
            errors.append(FieldError(f"metrics[{d.key}].key", "appears twice"))
        by_key[d.key] = d
    for d in definitions:
        for field, ref in _references(d):
            target = by_key.get(ref)
            where = f"metrics[{d.key}].spec.{field}"
            if target is None:
                errors.append(FieldError(where, f"unknown metric {ref!r}"))
            elif field == "of" and not (
                isinstance(target.spec, EventMetric) and target.spec.window_days
            ):
                errors.append(FieldError(where, f"{ref!r} must be an event metric with a window"))
            elif isinstance(target.spec, RatioMetric | TrendMetric):
                errors.append(FieldError(where, f"{ref!r} is itself derived; name a base metric"))
    if errors:
        raise InvalidInput(errors)


def _references(d: MetricDefinition) -> list[tuple[str, str]]:
    if isinstance(d.spec, RatioMetric):
        return [("numerator", d.spec.numerator), ("denominator", d.spec.denominator)]
    if isinstance(d.spec, TrendMetric):
        return [("of", d.spec.of)]
    return []


def load_yaml(text: str, where: str = "metrics") -> list[MetricDefinition]:
    """Definitions from YAML text (a list, or a mapping with a ``metrics`` list)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else where
        raise InvalidInput.one(line, f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if isinstance(data, dict) and "metrics" in data:
        data = data["metrics"]
    return parse_definitions(data, where)


def dump_yaml(definitions: list[MetricDefinition]) -> str:
    data = {"metrics": [d.model_dump(mode="json", exclude_defaults=False) for d in definitions]}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def standard_definitions() -> list[MetricDefinition]:
    """The metric set shipped with banso (standard_metrics.yaml)."""
    text = resources.files("banso.metrics").joinpath("standard_metrics.yaml").read_text("utf-8")
    return load_yaml(text, "standard_metrics.yaml")
