"""What other capabilities add to a customer's timeline: contract movements and health band
changes, read through their services and models, as stream items.

Both are dated by day; a day becomes the start of that day in the workspace timezone, so a
movement effective on 4/1 sits before everything written on 4/1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.contracts.service import account_movements
from banso.health.models import HealthBandChange, Scorecard
from banso.health.service import spec_of
from banso.i18n import current_timezone
from banso.timeline.stream import StreamItem


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the workspace timezone, in UTC."""
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(current_timezone()))
    return local.astimezone(UTC)


def _within(moment: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or moment >= since) and (until is None or moment <= until)


def contract_items(
    session: Session, account_id: int, since: datetime | None, until: datetime | None
) -> list[StreamItem]:
    """The account's contract movements (new, expansion, churn, ...) with their MRR change."""
    found = []
    for m in account_movements(session, account_id):
        moment = day_start(m.effective_date)
        if not _within(moment, since, until):
            continue
        found.append(
            StreamItem(
                kind="contract_movement",
                occurred_at=moment,
                title=m.plan_after,
                url=f"/customers/{account_id}#contracts",
                body=m.reason or "",
                ref_id=m.id,
                extra={
                    "movement": m.kind,
                    "mrr_before": m.mrr_before,
                    "mrr_after": m.mrr_after,
                    "mrr_delta": m.mrr_after - m.mrr_before,
                    "seats_before": m.seats_before,
                    "seats_after": m.seats_after,
                    "status_after": m.status_after,
                    "contract_id": m.contract_id,
                },
            )
        )
    return found


def health_items(
    session: Session, account_id: int, since: datetime | None, until: datetime | None
) -> list[StreamItem]:
    """The account's health band changes (e.g. 良好 → 要注意) on every scorecard."""
    stmt = (
        select(HealthBandChange, Scorecard)
        .join(Scorecard, Scorecard.id == HealthBandChange.scorecard_id)
        .where(HealthBandChange.account_id == account_id)
        .order_by(HealthBandChange.as_of, HealthBandChange.id)
    )
    found = []
    specs = {}
    for change, card in session.execute(stmt):
        moment = day_start(change.as_of)
        if not _within(moment, since, until):
            continue
        if card.id not in specs:
            specs[card.id] = spec_of(session, card)
        spec = specs[card.id]
        before, after = spec.band(change.from_band), spec.band(change.to_band)
        found.append(
            StreamItem(
                kind="health_change",
                occurred_at=moment,
                title=card.name,
                url=f"/customers/{account_id}/health",
                ref_id=change.id,
                extra={
                    "scorecard": card.name,
                    "from_band": before.label if before else change.from_band,
                    "to_band": after.label if after else change.to_band,
                    "to_colour": after.colour if after else "grey",
                    "from_score": change.from_score,
                    "to_score": change.to_score,
                },
            )
        )
    return found
