"""Shapes of timeline entries and of the cancellation reasons' taxonomy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from banso.text import Label, LongText, Name, OptionalLong

DB_INT_MAX = 2**31 - 1
EntryKind = Literal["hearing", "trouble", "call", "email", "cancellation_interview", "note"]
Severity = Literal["low", "medium", "high", "critical"]
TroubleStatus = Literal["open", "in_progress", "resolved"]
RecordId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
ReasonKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Lower-case letters, digits and _, starting with a letter (≤40).",
    ),
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("give a time zone (e.g. 2025-04-01T10:00:00+09:00)")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntryIn(_Strict):
    """A new entry on a customer's timeline. Troubles need severity and status; a resolved
    trouble needs its resolution; cancellation interviews give reasons from the taxonomy."""

    account_id: RecordId
    kind: EntryKind
    title: Name
    body: LongText = ""
    occurred_at: AwareDatetime
    contact_id: RecordId | None = None
    severity: Severity | None = None
    status: TroubleStatus | None = None
    resolution: OptionalLong = None
    resolved_at: AwareDatetime | None = None
    reason_keys: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=50
    )
    hypothesis: OptionalLong = None
    improvement: OptionalLong = None

    @field_validator("reason_keys")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in values if v.strip()))


class EntryPatch(_Strict):
    """Only the fields sent change; ``version`` must be the one the writer read."""

    version: int
    title: Name | None = None
    body: LongText | None = None
    occurred_at: AwareDatetime | None = None
    contact_id: RecordId | None = None
    severity: Severity | None = None
    status: TroubleStatus | None = None
    resolution: OptionalLong = None
    resolved_at: AwareDatetime | None = None
    reason_keys: list[Annotated[str, Field(max_length=40)]] | None = Field(
        default=None, max_length=50
    )
    hypothesis: OptionalLong = None
    improvement: OptionalLong = None

    @field_validator("title", "occurred_at", mode="before")
    @classmethod
    def _no_null_for_required(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null; leave it out to keep it")
        return value

    @field_validator("reason_keys")
    @classmethod
    def _unique(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        return list(dict.fromkeys(v.strip() for v in values if v.strip()))


class ReasonIn(_Strict):
    key: ReasonKey
    label_ja: Label
    label_en: Label


class ReasonPatch(_Strict):
    label_ja: Label | None = None
    label_en: Label | None = None
    is_active: bool | None = None
