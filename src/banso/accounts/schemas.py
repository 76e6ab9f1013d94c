"""Shapes of accounts and contacts as the API, importer and UI read and write them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
)

from banso.accounts.identity import normalize_domain
from banso.text import Label, Name, OptionalLabel, OptionalShort

CompanySize = Literal["1-9", "10-49", "50-99", "100-299", "300-999", "1000+"]
LifecycleStage = Literal["considering", "initial_setup", "early_operation", "stable", "churned"]
ContactRole = Literal["decision_maker", "project_leader", "project_office", "power_user", "user"]
Domain = Annotated[str, AfterValidator(normalize_domain)]
SystemName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,49}$")]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\x00), which cannot be stored")
    return value


ExternalIdValue = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_no_nul)]
ExternalIds = dict[SystemName, ExternalIdValue]
# contacts.name is 200 characters wide (accounts.name 300): say so before the database does.
ContactName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class AccountIn(_Strict):
    name: Name
    name_kana: OptionalShort = None
    domains: list[Domain] = Field(default_factory=list, max_length=50)
    industry: OptionalLabel = None
    company_size: CompanySize | None = None
    segment: OptionalLabel = None
    source: OptionalLabel = None
    owner_id: int | None = None
    tags: list[Label] = Field(default_factory=list, max_length=100)
    lifecycle_stage: LifecycleStage | None = None
    custom: dict[str, Any] = Field(default_factory=dict)
    external_ids: ExternalIds = Field(default_factory=dict)

    @field_validator("domains", "tags")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))


class AccountPatch(_Strict):
    """Only the fields present are changed; ``version`` must be the one you read."""

    version: int
    name: Name | None = None
    name_kana: OptionalShort = None
    domains: list[Domain] | None = Field(default=None, max_length=50)
    industry: OptionalLabel = None
    company_size: CompanySize | None = None
    segment: OptionalLabel = None
    source: OptionalLabel = None
    owner_id: int | None = None
    tags: list[Label] | None = Field(default=None, max_length=100)
    lifecycle_stage: LifecycleStage | None = None
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None


class AccountOut(BaseModel):
    id: int
    name: str
    name_kana: str | None
    domains: list[str]
    industry: str | None
    company_size: str | None
    segment: str | None
    source: str | None
    owner_id: int | None
    tags: list[str]
    lifecycle_stage: str | None
    mrr: int
    custom: dict[str, Any]
    external_ids: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime


class ContactIn(_Strict):
    account_id: int
    name: ContactName
    name_kana: OptionalShort = None
    email: EmailStr | None = None
    phone: Annotated[OptionalShort, Field(max_length=50)] = None
    title: OptionalShort = None
    role: ContactRole | None = None
    is_key_person: bool = False
    custom: dict[str, Any] = Field(default_factory=dict)
    external_ids: ExternalIds = Field(default_factory=dict)

    @field_validator("email", mode="before")
    @classmethod
    def _blank_email(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class ContactPatch(_Strict):
    version: int
    account_id: int | None = None
    name: ContactName | None = None
    name_kana: OptionalShort = None
    email: EmailStr | None = None
    phone: Annotated[OptionalShort, Field(max_length=50)] = None
    title: OptionalShort = None
    role: ContactRole | None = None
    is_key_person: bool | None = None
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None


class ContactOut(BaseModel):
    id: int
    account_id: int
    name: str
    name_kana: str | None
    email: str | None
    phone: str | None
    title: str | None
    role: str | None
    is_key_person: bool
    custom: dict[str, Any]
    external_ids: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime
