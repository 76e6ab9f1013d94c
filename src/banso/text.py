"""Constrained text types shared by every capability's schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; every other character is stored verbatim.
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\x00), which cannot be stored")
    return value


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_no_nul),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_nul)
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_no_nul),
]
LongText = Annotated[str, StringConstraints(max_length=100_000), AfterValidator(_no_nul)]
OptionalShort = Annotated[ShortText | None, BeforeValidator(_blank_to_none)]
OptionalLabel = Annotated[Label | None, BeforeValidator(_blank_to_none)]
OptionalLong = Annotated[LongText | None, BeforeValidator(_blank_to_none)]
