"""Shapes of knowledge pages as a writer submits them."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from banso.text import LongText, Name

PageKind = Literal["principle", "playbook", "template", "other"]
MAX_TAGS = 20
MAX_TAG_LENGTH = 100
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Paths under /knowledge/ that are pages of their own, so no page may take them as its slug.
RESERVED_SLUGS = frozenset({"new", "preview"})
_TAG_SEPARATORS = re.compile(r"[,、，\n]+")


def normalise_tag(text: str) -> str:
    """One way to write a tag: full-width letters folded (ＣＳＶ → csv), spaces collapsed, no #."""
    tag = unicodedata.normalize("NFKC", text).strip().lstrip("#").strip()
    return " ".join(tag.split()).lower()


def split_tags(value: object) -> object:
    """Tags typed as one line: separated by commas (, 、 ，) or new lines."""
    if isinstance(value, str):
        return [part for part in _TAG_SEPARATORS.split(value) if part.strip()]
    return value


def _tags(values: list[str]) -> list[str]:
    found: list[str] = []
    for value in values:
        tag = normalise_tag(value)
        if not tag:
            continue
        if "\x00" in tag:
            raise ValueError("a tag contains a NUL character (\\x00), which cannot be stored")
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(f"the tag {tag[:20]!r}… is longer than {MAX_TAG_LENGTH} characters")
        if tag not in found:
            found.append(tag)
    if len(found) > MAX_TAGS:
        raise ValueError(f"{len(found)} tags given; a page has at most {MAX_TAGS}")
    return found


Tags = Annotated[list[str], BeforeValidator(split_tags)]


class PageIn(BaseModel):
    """A new page. Without ``slug`` one is made from the title."""

    model_config = ConfigDict(extra="forbid")

    title: Name
    kind: PageKind = "other"
    body: LongText = ""
    tags: Tags = Field(default_factory=list)
    slug: str | None = None

    @field_validator("tags")
    @classmethod
    def _normalised_tags(cls, value: list[str]) -> list[str]:
        return _tags(value)

    @field_validator("slug", mode="before")
    @classmethod
    def _slug(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower() or None
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 80 or not SLUG.match(value):
            raise ValueError(
                "use lower-case letters, digits and single hyphens (at most 80), "
                "e.g. onboarding-guide"
            )
        if value in RESERVED_SLUGS:
            raise ValueError(f"{value!r} is reserved for a page of banso itself; choose another")
        return value


class PageEdit(BaseModel):
    """A saved edit: every field of the form, and the version it was opened at."""

    model_config = ConfigDict(extra="forbid")

    title: Name
    kind: PageKind
    body: LongText = ""
    tags: Tags = Field(default_factory=list)
    version: int = Field(ge=1)

    @field_validator("tags")
    @classmethod
    def _normalised_tags(cls, value: list[str]) -> list[str]:
        return _tags(value)
