"""Shapes of observation sessions and moments as a writer submits them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from banso.text import LongText, Name, ShortText

MomentKind = Literal["irritation", "confusion", "idea"]
MAX_AT_SECONDS = 24 * 3600
_CLOCK = re.compile(r"^(?:(\d{1,2}):)?(\d{1,3}):(\d{2})$")


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def check_recording_url(value: object) -> object:
    """A recording's address must be a web address (http or https), nothing a browser runs."""
    if not isinstance(value, str):
        return value
    url = value.strip()
    if len(url) > 2000:
        raise ValueError("the address is longer than 2,000 characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("give the recording's web address, starting with https:// or http://")
    if any(c.isspace() or c == "\x00" for c in url):
        raise ValueError("a web address cannot contain spaces")
    return url


def parse_at_seconds(value: object) -> object:
    """A time in the recording: seconds (95), or minutes:seconds (1:35) or h:mm:ss (1:02:03)."""
    if isinstance(value, str):
        text = value.strip().replace("：", ":")
        if not text:
            return None
        if text.isdigit():
            return int(text)
        clock = _CLOCK.match(text)
        if not clock:
            raise ValueError("write the time in the recording as seconds (95) or m:ss (1:35)")
        hours, minutes, seconds = (int(g or 0) for g in clock.groups())
        if seconds >= 60 or (hours and minutes >= 60):
            raise ValueError("write the time in the recording as seconds (95) or m:ss (1:35)")
        return hours * 3600 + minutes * 60 + seconds
    return value


RecordingUrl = Annotated[
    str | None, BeforeValidator(check_recording_url), BeforeValidator(_blank_to_none)
]
Step = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalShort = Annotated[ShortText | None, BeforeValidator(_blank_to_none)]


class SessionDetails(BaseModel):
    """What is said about a session besides its account: title, when, who used it, who watched."""

    model_config = ConfigDict(extra="forbid")

    title: Name
    held_at: datetime
    customer_role: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    contact_id: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(default=None, ge=1)
    observer_id: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(default=None, ge=1)
    recording_url: RecordingUrl = None

    @field_validator("held_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with its timezone")
        return value

    @field_validator("customer_role")
    @classmethod
    def _role_no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("contains a NUL character (\\x00), which cannot be stored")
        return value


class SessionIn(SessionDetails):
    """A new observation session with a customer."""

    account_id: int = Field(ge=1)


class SessionEdit(SessionDetails):
    """A session's details saved from the version they were opened at (the account stays)."""

    version: int = Field(ge=1)


class KptEdit(BaseModel):
    """The KPT retrospective (Keep / Problem / Try) saved from the version it was opened at."""

    model_config = ConfigDict(extra="forbid")

    keep: LongText = ""
    problem: LongText = ""
    try_next: LongText = ""
    version: int = Field(ge=1)


class MomentIn(BaseModel):
    """A moment seen during the session: irritation (イラッ), confusion (?) or an idea (💡)."""

    model_config = ConfigDict(extra="forbid")

    kind: MomentKind
    step: Step
    screen: OptionalShort = None
    note: Annotated[str, StringConstraints(max_length=10_000)] = ""
    severity: int = Field(default=1, ge=1, le=3)
    at_seconds: Annotated[int | None, BeforeValidator(parse_at_seconds)] = Field(
        default=None, ge=0, le=MAX_AT_SECONDS
    )
    recording_url: RecordingUrl = None

    @field_validator("step", "note")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("contains a NUL character (\\x00), which cannot be stored")
        return value
