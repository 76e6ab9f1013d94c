"""Shapes of deals (inquiries), the pipeline stages and the lost/archive reasons."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from banso.accounts.schemas import CompanySize, Domain, ExternalIds
from banso.money import CURRENCY_DIGITS
from banso.text import Label, Name, OptionalLabel, OptionalLong

# Amounts and ids are INTEGER columns; PostgreSQL refuses anything larger.
DB_INT_MAX = 2**31 - 1
StageOutcome = Literal["open", "won", "lost", "archived"]
ReasonKind = Literal["lost", "archived"]
TaxonomyKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Lower-case letters, digits and _, starting with a letter (≤40).",
    ),
]


def _whole_number(value: Any) -> Any:
    """Refuse floats and booleans for money: ``1200.0`` or ``true`` are mistakes, not yen."""
    if isinstance(value, bool):
        raise ValueError("an amount is a whole number of minor units (yen, cents), not true/false")
    if isinstance(value, float):
        raise ValueError("an amount is a whole number of minor units (yen, cents), not a float")
    return value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _currency(value: str) -> str:
    code = value.upper()
    if code not in CURRENCY_DIGITS:
        raise ValueError(f"unsupported currency {value!r}; use one of {sorted(CURRENCY_DIGITS)}")
    return code


Money = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=DB_INT_MAX)]
OptionalName = Annotated[Name | None, BeforeValidator(_blank_to_none)]
RecordId = Annotated[int, Field(ge=1, le=DB_INT_MAX)]
Currency = Annotated[str, BeforeValidator(lambda v: _currency(v) if isinstance(v, str) else v)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DealIn(_Strict):
    """A new inquiry or deal. Without ``stage_key`` it starts in the pipeline's first stage."""

    title: Name
    account_id: int | None = Field(default=None, description="When the company is an account.")
    contact_id: int | None = None
    company_name: OptionalName = Field(
        default=None, description="The company's name while it is not yet an account."
    )
    source_channel: OptionalLabel = Field(default=None, description="Where the inquiry came from.")
    company_size: CompanySize | None = None
    problem: OptionalLong = Field(default=None, description="The customer's problem (課題).")
    budget: Money | None = Field(default=None, description="Budget in minor units (yen).")
    currency: Currency = "JPY"
    expected_mrr: Money | None = Field(default=None, description="Expected MRR in minor units.")
    story: OptionalLong = Field(default=None, description="Business story (経営課題/ストーリー).")
    stage_key: str | None = None
    lost_reason_key: str | None = None
    lost_reason_text: OptionalLong = None
    owner_id: int | None = None
    inquiry_date: date | None = None
    expected_close_date: date | None = None
    closed_date: date | None = None
    custom: dict[str, Any] = Field(default_factory=dict)
    external_ids: ExternalIds = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_the_company(self) -> DealIn:
        if self.account_id is None and self.company_name is None:
            raise ValueError(
                "name the company: company_name, or account_id when it is already an account"
            )
        return self


class DealPatch(_Strict):
    """Only the fields sent change; ``version`` must be the one you read."""

    version: int
    title: Name | None = None
    account_id: int | None = None
    contact_id: int | None = None
    company_name: OptionalName = None
    source_channel: OptionalLabel = None
    company_size: CompanySize | None = None
    problem: OptionalLong = None
    budget: Money | None = None
    currency: Currency | None = None
    expected_mrr: Money | None = None
    story: OptionalLong = None
    stage_key: str | None = None
    lost_reason_key: str | None = None
    lost_reason_text: OptionalLong = None
    owner_id: int | None = None
    inquiry_date: date | None = None
    expected_close_date: date | None = None
    closed_date: date | None = None
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None

    @field_validator("title", "stage_key", "currency", mode="before")
    @classmethod
    def _no_null_for_required(cls, value: Any) -> Any:
        # Runs only for fields that were sent: an explicit null would empty a required column.
        if value is None:
            raise ValueError("cannot be null; leave it out to keep it")
        return value


class DealOut(BaseModel):
    id: int
    title: str
    account_id: int | None
    contact_id: int | None
    company_name: str | None
    source_channel: str | None
    company_size: str | None
    problem: str | None
    budget: int | None
    currency: str
    expected_mrr: int | None
    story: str | None
    stage_key: str
    outcome: str = Field(description="The stage's outcome: open, won, lost or archived.")
    lost_reason_key: str | None
    lost_reason_text: str | None
    owner_id: int | None
    inquiry_date: date | None
    expected_close_date: date | None
    closed_date: date | None
    contract_id: int | None
    custom: dict[str, Any]
    external_ids: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime


class WinIn(_Strict):
    """Win a deal: link or create the account and start its first contract."""

    version: int | None = Field(default=None, description="The deal version you read.")
    account_id: int | None = Field(
        default=None, description="Existing account; default: the deal's account."
    )
    company_name: OptionalName = Field(
        default=None, description="Name of the account to create; default: the deal's company."
    )
    domains: list[Domain] = Field(default_factory=list, max_length=50)
    plan: Label
    mrr: Money = Field(description="Monthly recurring revenue in minor units (yen).")
    currency: Currency | None = Field(default=None, description="Default: the deal's currency.")
    seats: int | None = Field(default=None, ge=0, le=DB_INT_MAX)
    start_date: date
    end_date: date | None = None
    auto_renew: bool = True
    status: Literal["trial", "active"] = "active"
    reason: OptionalLong = None
    closed_date: date | None = Field(default=None, description="Default: today.")
    contract_external_ids: ExternalIds = Field(default_factory=dict)

    @field_validator("domains")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(values))

    @model_validator(mode="after")
    def _term(self) -> WinIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        if self.account_id is not None and self.company_name is not None:
            raise ValueError("give account_id (link) or company_name (create), not both")
        return self


class WinOut(BaseModel):
    deal: DealOut
    account_id: int
    account_created: bool
    contract_id: int


# ------------------------------------------------------------------ taxonomy


class StageIn(_Strict):
    key: TaxonomyKey
    label_ja: Label
    label_en: Label
    position: int = Field(default=0, ge=0, le=100_000)
    outcome: StageOutcome = "open"


class StagePatch(_Strict):
    label_ja: Label | None = None
    label_en: Label | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)
    outcome: StageOutcome | None = None


class StageOut(BaseModel):
    key: str
    label_ja: str
    label_en: str
    position: int
    outcome: str
    deals: int = Field(description="How many deals are in this stage.")


class ReasonIn(_Strict):
    key: TaxonomyKey
    label_ja: Label
    label_en: Label
    kind: ReasonKind = "lost"
    position: int = Field(default=0, ge=0, le=100_000)
    is_active: bool = True


class ReasonPatch(_Strict):
    label_ja: Label | None = None
    label_en: Label | None = None
    kind: ReasonKind | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)
    is_active: bool | None = None


class ReasonOut(BaseModel):
    key: str
    label_ja: str
    label_en: str
    kind: str
    position: int
    is_active: bool
    deals: int = Field(description="How many deals give this reason.")


class ReorderIn(_Strict):
    """Every key, in the new order; positions become 10, 20, 30, ..."""

    keys: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=1000)
