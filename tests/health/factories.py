"""Health records made by hand: a small scorecard and snapshots written straight into the table."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import Actor
from banso.health.definitions import parse_spec
from banso.health.models import HealthSnapshot, Scorecard
from banso.health.service import save_scorecard

BANDS = [
    {"key": "red", "label": "Red", "min": 0, "colour": "red"},
    {"key": "yellow", "label": "Yellow", "min": 40, "colour": "yellow"},
    {"key": "green", "label": "Green", "min": 70, "colour": "green"},
]


def measure(key: str, label: str, weight: float, **source: Any) -> dict[str, Any]:
    if "rating" not in source and "thresholds" not in source:
        source.setdefault("linear", {"zero_at": 0, "full_at": 100})
    return {"key": key, "label": label, "weight": weight, **source}


def make_scorecard(
    session: Session,
    actor: Actor,
    key: str = "fit",
    rating: bool = False,
    licences: bool = False,
    **extra: Any,
) -> Scorecard:
    """Active days (weight 3) and MRR (weight 1); optionally a CSM rating and licence use."""
    days = {"zero_at": 0, "full_at": 20}
    usage = [measure("days", "Active days", 3, metric="active_days_30d", linear=days)]
    if licences:
        ratio = {"zero_at": 0, "full_at": 1}
        usage.append(
            measure("licence_activation", "Licences in use", 1, metric="licence_activation",
                    linear=ratio)
        )  # fmt: skip
    relation = [measure("mrr", "MRR", 1, field="mrr", linear={"zero_at": 0, "full_at": 100_000})]
    if rating:
        relation.append(measure("csm_rating", "CSM rating", 1, rating={"valid_days": 90}))
    spec = parse_spec(
        {
            "key": key,
            "name": extra.pop("name", "Fit score"),
            "bands": BANDS,
            "categories": [
                {"name": "Usage", "measures": usage},
                {"name": "Relationship", "measures": relation},
            ],
            **extra,
        }
    )
    card, _ = save_scorecard(session, actor, spec)
    return card


def part(raw: float | None, points: float | None, share: float) -> dict[str, Any]:
    """One measure's part in a snapshot (no value: share 0)."""
    contribution = (points or 0.0) * share
    return {"raw": raw, "points": points, "weight": share, "contribution": contribution}


def put_snapshot(
    session: Session,
    card: Scorecard,
    account: Account | int,
    as_of: date,
    score: float | None,
    band: str | None = None,
    measures: dict[str, Any] | None = None,
    version: int = 1,
) -> HealthSnapshot:
    """A snapshot as refresh would store it; the band follows from the score unless given."""
    if band is None and score is not None:
        band = "green" if score >= 70 else "yellow" if score >= 40 else "red"
    row = HealthSnapshot(
        scorecard_id=card.id,
        scorecard_version=version,
        account_id=account if isinstance(account, int) else account.id,
        as_of=as_of,
        score=score,
        band=band,
        measures=measures or {},
    )
    session.add(row)
    session.flush()
    return row
