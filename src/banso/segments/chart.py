"""Graph views (M8): counts or MRR of the accounts in a view, grouped by one or two fields."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, AccountTag
from banso.errors import InvalidInput
from banso.segments.view import CustomerView, conditions, custom_definitions

GROUPS: dict[str, Any] = {
    "stage": Account.lifecycle_stage,
    "segment": Account.segment,
    "industry": Account.industry,
    "company_size": Account.company_size,
    "source": Account.source,
    "owner": Account.owner_id,
    "tag": AccountTag.tag,
}
MEASURES = ("count", "mrr")
# Custom fields whose values are categories (free text is grouped as typed).
GROUPABLE_CUSTOM_TYPES = ("single_choice", "text")


@dataclass
class ChartTable:
    """Numbers per (row, series); ``series`` is [None] when grouped by one field."""

    by: str
    by2: str | None
    measure: str
    rows: list[Any] = field(default_factory=list)
    series: list[Any] = field(default_factory=list)
    values: dict[tuple[Any, Any], int] = field(default_factory=dict)

    def value(self, row: Any, series: Any) -> int:
        return self.values.get((row, series), 0)

    def row_total(self, row: Any) -> int:
        return sum(self.value(row, s) for s in self.series)

    def series_total(self, series: Any) -> int:
        return sum(self.value(r, series) for r in self.rows)

    @property
    def total(self) -> int:
        return sum(self.values.values())


def groupable(session: Session) -> list[str]:
    custom = [
        f"custom.{d.key}" for d in custom_definitions(session) if d.type in GROUPABLE_CUSTOM_TYPES
    ]
    return [*GROUPS, *custom]


def _expression(session: Session, name: str) -> Any:
    if name in GROUPS:
        return GROUPS[name]
    if name in groupable(session):
        return Account.custom[name.removeprefix("custom.")].as_string()
    choices = ", ".join(groupable(session))
    raise InvalidInput.one("by", f"cannot group by {name!r}; use one of {choices}")


def chart(
    session: Session,
    view: CustomerView,
    user_id: int | None,
    *,
    by: str,
    by2: str | None = None,
    measure: str = "count",
) -> ChartTable:
    """Group the view's accounts; a tag groups an account once under each of its tags."""
    if measure not in MEASURES:
        raise InvalidInput.one("measure", f"unknown measure {measure!r}; use count or mrr")
    if by2 == by:
        raise InvalidInput.one("by2", "choose a second field different from the first")
    keys = [_expression(session, by)]
    if by2:
        keys.append(_expression(session, by2))
    amount = (
        func.count(Account.id) if measure == "count" else func.coalesce(func.sum(Account.mrr), 0)
    )
    stmt = select(*keys, amount).select_from(Account)
    if "tag" in (by, by2):
        stmt = stmt.outerjoin(AccountTag, AccountTag.account_id == Account.id)
    stmt = stmt.where(*conditions(session, view, user_id)).group_by(*keys)
    table = ChartTable(by=by, by2=by2, measure=measure)
    totals: dict[Any, int] = defaultdict(int)
    series_totals: dict[Any, int] = defaultdict(int)
    for found in session.execute(stmt):
        row, series = found[0], (found[1] if by2 else None)
        table.values[(row, series)] = int(found[-1])
        totals[row] += int(found[-1])
        series_totals[series] += int(found[-1])
    # Biggest first, "not set" last, so the chart reads from what matters most.
    table.rows = sorted(totals, key=lambda r: (r is None, -totals[r], str(r)))
    table.series = sorted(series_totals, key=lambda s: (s is None, -series_totals[s], str(s)))
    return table
