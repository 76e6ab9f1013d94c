"""Plain functions that make valid records, overriding only what a test cares about."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.accounts.schemas import AccountIn, ContactIn
from banso.accounts.service import create_account, create_contact
from banso.audit.service import Actor
from banso.contracts.models import Contract
from banso.contracts.schemas import ContractIn
from banso.contracts.service import create_contract

SYSTEM = Actor(label="factory")


def make_account(session: Session, **fields: Any) -> Account:
    data = {"name": "株式会社テスト", **fields}
    return create_account(session, SYSTEM, AccountIn(**data))


def make_contact(session: Session, account: Account, **fields: Any) -> Contact:
    data = {"account_id": account.id, "name": "山田 太郎", **fields}
    return create_contact(session, SYSTEM, ContactIn(**data))


def make_contract(session: Session, account: Account, **fields: Any) -> Contract:
    data = {
        "account_id": account.id,
        "plan": "Standard",
        "mrr": 50_000,
        "seats": 10,
        "start_date": date(2025, 4, 1),
        "end_date": date(2026, 3, 31),
        **fields,
    }
    return create_contract(session, SYSTEM, ContractIn(**data))
