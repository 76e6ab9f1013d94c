"""Helpers for health tests: metric values written straight into snapshots, a small scorecard."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.health.definitions import ScorecardSpec, parse_spec
from banso.metrics.models import MetricSnapshot


def put_metric(session: Session, account: Account, key: str, as_of: date, value: float) -> None:
    session.add(MetricSnapshot(account_id=account.id, metric_key=key, as_of=as_of, value=value))
    session.flush()


def small_spec(**extra: Any) -> ScorecardSpec:
    """Active days (0-20 days → 0-100 points, weight 3) and MRR (weight 1)."""
    return parse_spec(
        {
            "key": "adoption",
            "name": "Adoption",
            "bands": [
                {"key": "red", "label": "Red", "min": 0, "colour": "red"},
                {"key": "green", "label": "Green", "min": 50, "colour": "green"},
            ],
            "categories": [
                {
                    "name": "Usage",
                    "measures": [
                        {
                            "key": "days",
                            "label": "Active days",
                            "metric": "active_days_30d",
                            "linear": {"zero_at": 0, "full_at": 20},
                            "weight": 3,
                        },
                        {
                            "key": "mrr",
                            "label": "MRR",
                            "field": "mrr",
                            "linear": {"zero_at": 0, "full_at": 100_000},
                            "weight": 1,
                        },
                    ],
                }
            ],
            **extra,
        }
    )
