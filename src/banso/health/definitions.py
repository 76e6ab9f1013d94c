"""What a scorecard is: bands, measures grouped into categories, weights; validated, in YAML.

A scorecard never contains code. Each measure reads one value per account (a usage metric, an
account or contract field, or a CSM's rating) and turns it into 0-100 points, by thresholds or
by linear scaling; the score is the weighted mean of the points of the measures that have a
value (missing ones are left out and the remaining weights re-scaled).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from banso.errors import FieldError, InvalidInput

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# Account and contract values as of the scored date (see inputs.py).
FIELDS = ("days_to_renewal", "mrr", "mrr_change_90d", "contract_seats", "days_as_customer")
_CUSTOM = re.compile(r"^custom\.[a-z][a-z0-9_]{0,62}$")
COLOURS = ("red", "orange", "yellow", "green", "blue", "grey")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """Scores from ``min`` up to the next band's ``min`` fall in this band."""

    key: Annotated[str, Field(pattern=KEY_PATTERN)]
    label: Annotated[str, Field(min_length=1, max_length=60)]
    min: Annotated[float, Field(ge=0, le=100)]
    colour: Literal["red", "orange", "yellow", "green", "blue", "grey"] = "grey"


class Threshold(_Strict):
    at_least: float
    points: Annotated[float, Field(ge=0, le=100)]


class Linear(_Strict):
    """0 points at ``zero_at``, 100 at ``full_at``, straight between (either may be larger)."""

    zero_at: float
    full_at: float

    @model_validator(mode="after")
    def _distinct(self) -> Linear:
        if self.zero_at == self.full_at:
            raise ValueError("zero_at and full_at must differ")
        return self


class Rating(_Strict):
    """A CSM's rating (0-100) counts until it expires; at most ``valid_days`` after it is given."""

    valid_days: Annotated[int, Field(ge=1, le=3660)] = 90


class Measure(_Strict):
    key: Annotated[str, Field(pattern=KEY_PATTERN)]
    label: Annotated[str, Field(min_length=1, max_length=100)]
    weight: Annotated[float, Field(ge=0, le=1000)]
    metric: str | None = Field(default=None, description="Key of a usage metric.")
    max_age_days: Annotated[int, Field(ge=0, le=366)] = Field(
        default=14, description="How old a metric snapshot may be and still count."
    )
    field: str | None = Field(default=None, description="An account or contract field.")
    rating: Rating | None = None
    thresholds: list[Threshold] | None = None
    otherwise: Annotated[float, Field(ge=0, le=100)] = Field(
        default=0, description="Points below the lowest threshold."
    )
    linear: Linear | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str | None) -> str | None:
        if value is not None and value not in FIELDS and not _CUSTOM.match(value):
            raise ValueError(f"unknown field; use one of {', '.join(FIELDS)} or custom.<key>")
        return value

    @field_validator("thresholds")
    @classmethod
    def _some_thresholds(cls, value: list[Threshold] | None) -> list[Threshold] | None:
        if value is not None:
            if not value:
                raise ValueError("give at least one threshold")
            levels = [t.at_least for t in value]
            if len(set(levels)) != len(levels):
                raise ValueError("two thresholds have the same at_least")
        return value

    @model_validator(mode="after")
    def _one_source_one_scale(self) -> Measure:
        sources = [s for s in ("metric", "field", "rating") if getattr(self, s) is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of metric, field or rating")
        if self.thresholds is not None and self.linear is not None:
            raise ValueError("give thresholds or linear, not both")
        if self.rating is None and self.thresholds is None and self.linear is None:
            raise ValueError("give thresholds or linear to turn the value into points")
        return self

    @property
    def source(self) -> str:
        if self.metric is not None:
            return f"metric:{self.metric}"
        if self.field is not None:
            return f"field:{self.field}"
        return "rating"


class Category(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    measures: Annotated[list[Measure], Field(min_length=1)]


class AppliesTo(_Strict):
    segment: str | None = Field(default=None, description="Name of a saved segment.")


def _default_bands() -> list[Band]:
    return [
        Band(key="red", label="Red", min=0, colour="red"),
        Band(key="yellow", label="Yellow", min=40, colour="yellow"),
        Band(key="green", label="Green", min=70, colour="green"),
    ]


class ScorecardSpec(_Strict):
    key: Annotated[str, Field(pattern=KEY_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    primary: bool = False
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    bands: list[Band] = Field(default_factory=_default_bands)
    categories: Annotated[list[Category], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> ScorecardSpec:
        if not self.bands or self.bands[0].min != 0:
            raise ValueError("bands: the first band must start at min 0")
        limits = [b.min for b in self.bands]
        if limits != sorted(set(limits)):
            raise ValueError("bands: list them from the lowest min up, each min different")
        band_keys = [b.key for b in self.bands]
        if len(set(band_keys)) != len(band_keys):
            raise ValueError("bands: two bands have the same key")
        if not any(m.weight > 0 for m in self.measures):
            raise ValueError("at least one measure needs a weight above 0")
        keys = [m.key for m in self.measures]
        if len(set(keys)) != len(keys):
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"measure keys must be unique: {', '.join(repeated)}")
        return self

    @property
    def measures(self) -> list[Measure]:
        return [m for c in self.categories for m in c.measures]

    def category_of(self, key: str) -> str:
        return next(c.name for c in self.categories for m in c.measures if m.key == key)

    def band_of(self, score: float) -> Band:
        chosen = self.bands[0]
        for band in self.bands:
            if score >= band.min:
                chosen = band
        return chosen

    def band(self, key: str | None) -> Band | None:
        return next((b for b in self.bands if b.key == key), None)

    def with_weights(self, weights: dict[str, float]) -> ScorecardSpec:
        """The same scorecard with other weights (measures left out of ``weights`` keep theirs),
        validated again: negative or all-zero weights are refused."""
        categories = [
            c.model_copy(
                update={
                    "measures": [
                        m.model_copy(update={"weight": weights.get(m.key, m.weight)})
                        for m in c.measures
                    ]
                }
            )
            for c in self.categories
        ]
        return parse_spec(self.model_copy(update={"categories": categories}).model_dump())


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "scorecard"


def parse_spec(data: Any, where: str = "") -> ScorecardSpec:
    """Validate one scorecard; errors name the place (``categories.0.measures.1.weight``)."""
    try:
        return ScorecardSpec.model_validate(data)
    except ValidationError as exc:
        prefix = f"{where}." if where else ""
        raise InvalidInput(
            [FieldError(prefix + _where(e["loc"]), e["msg"]) for e in exc.errors()[:20]]
        ) from None


def load_yaml(text: str, source: str = "YAML") -> list[ScorecardSpec]:
    """Scorecards from YAML: one mapping, a list, or ``{scorecards: [...]}``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise InvalidInput.one(source, f"not valid YAML{at}") from None
    if isinstance(data, dict) and "scorecards" in data:
        data = data["scorecards"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise InvalidInput.one(source, "expected a scorecard or a list of scorecards")
    specs = [parse_spec(item, f"scorecards.{i}") for i, item in enumerate(data)]
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise InvalidInput.one(source, "two scorecards have the same key")
    return specs


def standard_scorecard() -> ScorecardSpec:
    """The scorecard shipped as a starting point (``standard_scorecard.yaml``)."""
    text = resources.files("banso.health").joinpath("standard_scorecard.yaml").read_text("utf-8")
    return load_yaml(text, "standard_scorecard.yaml")[0]


def dump_yaml(specs: list[ScorecardSpec]) -> str:
    """YAML that load_yaml reads back to the same scorecards."""
    data = {"scorecards": [s.model_dump(mode="json", exclude_defaults=True) for s in specs]}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
