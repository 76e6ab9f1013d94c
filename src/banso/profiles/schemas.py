"""Shapes of the customer understanding profile: the account's layers and a key contact's."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from banso.text import LongText


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountProfilePatch(_Strict):
    """The fields sent change; ``version`` is the one the writer read (0: no profile yet)."""

    version: Annotated[int, Field(ge=0)]
    industry_context: LongText | None = None
    business_goals: LongText | None = None
    rhythm: LongText | None = None
    feelings: LongText | None = None


class ContactProfilePatch(_Strict):
    version: Annotated[int, Field(ge=0)]
    it_literacy: Annotated[int, Field(ge=1, le=5)] | None = None
    strengths: LongText | None = None
    motivation: LongText | None = None
    notes: LongText | None = None
