"""Shapes of contracts and their movements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from banso.accounts.schemas import ExternalIds
from banso.money import CURRENCY_DIGITS
from banso.text import Label, OptionalLong

ContractStatus = Literal["trial", "active", "churned", "paused"]
MovementKind = Literal["new", "expansion", "contraction", "renewal", "churn", "reactivation"]
Money = int  # minor units of the contract currency
# Amounts, seats and ids are INTEGER columns; PostgreSQL refuses anything larger.
DB_INT_MAX = 2**31 - 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _whole_number(value: Any) -> Any:
    """Refuse floats and booleans for amounts: ``80000.0`` or ``true`` are mistakes, not MRR."""
    if isinstance(value, bool):
        raise ValueError("MRR is a whole number of minor units (yen, cents), not true/false")
    if isinstance(value, float):
        raise ValueError("MRR is a whole number of minor units (yen, cents), not a float")
    return value


def _currency(value: str) -> str:
    code = value.upper()
    if code not in CURRENCY_DIGITS:
        raise ValueError(f"unsupported currency {value!r}; use one of {sorted(CURRENCY_DIGITS)}")
    return code


class ContractIn(_Strict):
    account_id: int = Field(ge=1, le=DB_INT_MAX)
    plan: Label
    mrr: Money = Field(
        ge=0, le=DB_INT_MAX, description="Monthly recurring revenue in minor units (yen)."
    )
    currency: str = "JPY"
    seats: int | None = Field(default=None, ge=0, le=DB_INT_MAX)
    start_date: date
    end_date: date | None = None
    auto_renew: bool = True
    status: Literal["trial", "active"] = "active"
    reason: OptionalLong = None
    custom: dict[str, Any] = Field(default_factory=dict)
    external_ids: ExternalIds = Field(default_factory=dict)

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        return _currency(value)

    @field_validator("mrr", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _whole_number(value)

    @model_validator(mode="after")
    def _term(self) -> ContractIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class ContractPatch(_Strict):
    """Terms that change without an MRR movement. MRR and status change through movements."""

    version: int
    plan: Label | None = None
    end_date: date | None = None
    auto_renew: bool | None = None
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None


class MovementIn(_Strict):
    kind: MovementKind
    effective_date: date
    mrr: Money | None = Field(
        default=None,
        ge=0,
        le=DB_INT_MAX,
        description="MRR from this date on; churn and pause set 0 by themselves.",
    )
    seats: int | None = Field(default=None, ge=0, le=DB_INT_MAX)
    plan: Label | None = None
    end_date: date | None = Field(default=None, description="New term end (renewals).")
    pause: bool = Field(default=False, description="With a contraction: pause the contract.")
    reason: OptionalLong = None
    version: int | None = Field(default=None, description="The contract version you read.")

    @field_validator("mrr", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return _whole_number(value)


class MovementOut(BaseModel):
    id: int
    contract_id: int
    account_id: int
    effective_date: date
    kind: str
    mrr_before: int
    mrr_after: int
    mrr_delta: int
    seats_before: int | None
    seats_after: int | None
    status_after: str
    plan_after: str
    reason: str | None
    actor: str
    created_at: datetime


class ContractOut(BaseModel):
    id: int
    account_id: int
    plan: str
    mrr: int
    currency: str
    seats: int | None
    start_date: date
    end_date: date | None
    auto_renew: bool
    status: str
    custom: dict[str, Any]
    external_ids: dict[str, str]
    version: int
    created_at: datetime
    updated_at: datetime
