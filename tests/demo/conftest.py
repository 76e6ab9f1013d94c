"""A small demo (60 accounts) generated into the test session, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.demo.generator import DemoResult, generate

SEED = 5
ACCOUNTS = 60
PASSWORD = "demo-only-password"


@pytest.fixture
def demo(session: Session) -> DemoResult:
    result = generate(session, seed=SEED, n_accounts=ACCOUNTS, admin_password=PASSWORD)
    session.flush()
    return result
