"""Deals made through the service, overriding only what a test cares about."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from banso.deals.models import Deal
from banso.deals.schemas import DealIn
from banso.deals.service import create_deal
from tests.factories import SYSTEM


def make_deal(session: Session, **fields: Any) -> Deal:
    data = {"title": "勤怠管理の導入相談", "company_name": "株式会社サンプル", **fields}
    return create_deal(session, SYSTEM, DealIn(**data))
