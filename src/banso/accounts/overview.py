"""What the customer page (Customer 360) shows about one account, assembled in a few queries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.models import Account, AccountMerge, Contact
from banso.accounts.schemas import AccountPatch, ContactIn, ContactPatch
from banso.accounts.service import get_account, get_contact, update_account, update_contact
from banso.audit.service import Actor
from banso.auth.models import User
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.service import MAX_SERIES_POINTS, account_movements, month_ends, mrr_series
from banso.deals.models import Deal
from banso.errors import FieldError, InvalidInput

# Contracts that still renew: a churned contract has no renewal to prepare for.
_RENEWING = ("active", "trial", "paused")


@dataclass
class Renewal:
    """The next contract end date on or after today, and how many days remain until it."""

    contract_id: int
    end_date: date
    days: int


@dataclass
class Overview:
    account: Account
    owner: User | None
    renewal: Renewal | None
    contacts: list[Contact]
    contracts: list[Contract]
    movements: list[ContractMovement]
    series: list[tuple[date, int]]
    deals: list[Deal] = field(default_factory=list)

    @property
    def key_contacts(self) -> list[Contact]:
        return [c for c in self.contacts if c.is_key_person]


def next_renewal(contracts: list[Contract], today: date) -> Renewal | None:
    """The earliest end date not in the past among contracts that are still running."""
    upcoming = [
        c
        for c in contracts
        if c.status in _RENEWING and c.end_date is not None and c.end_date >= today
    ]
    if not upcoming:
        return None
    first = min(upcoming, key=lambda c: (c.end_date, c.id))
    assert first.end_date is not None
    return Renewal(first.id, first.end_date, (first.end_date - today).days)


def history_points(movements: list[ContractMovement], today: date) -> list[date]:
    """Month ends from the first movement to this month (the latest ten years at most)."""
    if not movements:
        return []
    start = min(m.effective_date for m in movements)
    end = max(today, max(m.effective_date for m in movements))
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > MAX_SERIES_POINTS:
        # Keep the recent end: a CS manager looks at the last years, not the first ones.
        shift = months - MAX_SERIES_POINTS
        year, month = divmod(start.month - 1 + shift, 12)
        start = date(start.year + year, month + 1, 1)
    return month_ends(start, end)


def mrr_history(
    session: Session, account_id: int, movements: list[ContractMovement], today: date
) -> list[tuple[date, int]]:
    currency = str(session.info.get("currency", "JPY"))
    points = history_points(movements, today)
    if not points:
        return []
    return mrr_series(session, points, account_id=account_id, currency=currency)


def chart_data(series: list[tuple[date, int]], label: str) -> dict[str, Any]:
    """The JSON a ``<canvas data-chart>`` element takes: a step line of MRR per month end."""
    return {
        "type": "line",
        "step": True,
        "labels": [point.isoformat() for point, _ in series],
        "datasets": [{"label": label, "data": [value for _, value in series]}],
    }


def _contacts(session: Session, account_id: int) -> list[Contact]:
    stmt = (
        select(Contact)
        .where(Contact.account_id == account_id)
        .order_by(Contact.is_key_person.desc(), Contact.name, Contact.id)
    )
    return list(session.scalars(stmt))


def _contracts(session: Session, account_id: int) -> list[Contract]:
    stmt = (
        select(Contract)
        .where(Contract.account_id == account_id)
        .order_by(Contract.start_date.desc(), Contract.id.desc())
    )
    return list(session.scalars(stmt))


def _deals(session: Session, account_id: int) -> list[Deal]:
    stmt = select(Deal).where(Deal.account_id == account_id).order_by(Deal.id.desc()).limit(50)
    return list(session.scalars(stmt))


def overview(session: Session, account_id: int, today: date) -> Overview:
    """Everything the customer page header and sections show; ``today`` in workspace time."""
    account = get_account(session, account_id)
    owner = session.get(User, account.owner_id) if account.owner_id else None
    contracts = _contracts(session, account_id)
    movements = account_movements(session, account_id)
    return Overview(
        account=account,
        owner=owner,
        renewal=next_renewal(contracts, today),
        contacts=_contacts(session, account_id),
        contracts=contracts,
        movements=movements,
        series=mrr_history(session, account_id, movements, today),
        deals=_deals(session, account_id),
    )


def merged_into(session: Session, account_id: int) -> int | None:
    """The account a removed account was merged into, so its old address can point there."""
    return session.scalar(
        select(AccountMerge.target_account_id)
        .where(AccountMerge.source_account_id == account_id)
        .order_by(AccountMerge.id.desc())
        .limit(1)
    )


# ---------------------------------------------------------------- inline editing

ACCOUNT_FIELDS = (
    "name",
    "name_kana",
    "industry",
    "company_size",
    "segment",
    "source",
    "owner_id",
    "lifecycle_stage",
    "tags",
)
CONTACT_FIELDS = ("name", "name_kana", "email", "phone", "title", "role", "is_key_person")
_SPLIT = re.compile(r"[,、，]")


def field_value(record_: Account | Contact, name: str) -> Any:
    """The stored value of a standard field or of ``custom.<key>``."""
    if name.startswith("custom."):
        return record_.custom.get(name.removeprefix("custom."))
    if name == "tags":
        return [t.tag for t in record_.tags]  # type: ignore[union-attr]
    return getattr(record_, name)


def _check_field(session: Session, entity: str, name: str, allowed: tuple[str, ...]) -> None:
    if name.startswith("custom."):
        keys = {d.key for d in customfields.definitions(session, entity)}
        if name.removeprefix("custom.") in keys:
            return
    elif name in allowed:
        return
    raise InvalidInput.one("field", f"{name!r} is not an editable {entity} field")


def _parsed(name: str, raw: str) -> Any:
    """Turn the text a form sent into what the record's patch schema takes."""
    text = raw.strip()
    if name.startswith("custom."):
        return {"custom": {name.removeprefix("custom."): text or None}}
    if name == "tags":
        return {"tags": [t.strip() for t in _SPLIT.split(text) if t.strip()]}
    if name == "is_key_person":
        return {name: text.casefold() in ("1", "true", "on", "yes")}
    if name == "owner_id":
        if text and not text.isdigit():
            raise InvalidInput.one(name, "must be a user id")
        return {name: int(text) if text else None}
    if name == "name":
        return {name: text}  # an empty name is refused by the schema, not silently kept
    return {name: text or None}


def _patch(schema: type[Any], name: str, raw: str, version: int) -> Any:
    try:
        return schema(version=version, **_parsed(name, raw))
    except ValidationError as exc:
        raise InvalidInput([FieldError(name, str(err["msg"])) for err in exc.errors()]) from exc


def edit_account_field(
    session: Session, actor: Actor, account_id: int, name: str, raw: str, version: int
) -> Account:
    """Change one field of an account; raises Conflict when ``version`` is not the current one."""
    get_account(session, account_id)
    _check_field(session, "account", name, ACCOUNT_FIELDS)
    return update_account(session, actor, account_id, _patch(AccountPatch, name, raw, version))


def edit_contact_field(
    session: Session, actor: Actor, contact_id: int, name: str, raw: str, version: int
) -> Contact:
    """Change one field of a contact, with the same version check as accounts."""
    get_contact(session, contact_id)
    _check_field(session, "contact", name, CONTACT_FIELDS)
    return update_contact(session, actor, contact_id, _patch(ContactPatch, name, raw, version))


def contact_in(account_id: int, form: dict[str, str]) -> ContactIn:
    """A new contact from the page's form; bad input names the field it is about."""
    data: dict[str, Any] = {
        "account_id": account_id,
        "name": form.get("name", "").strip(),
        "email": form.get("email", "").strip() or None,
        "title": form.get("title", "").strip() or None,
        "role": form.get("role", "").strip() or None,
        "is_key_person": bool(form.get("key")),
    }
    try:
        return ContactIn(**data)
    except ValidationError as exc:
        raise InvalidInput(
            [FieldError(str(err["loc"][0]), str(err["msg"])) for err in exc.errors()]
        ) from exc


# ---------------------------------------------------------------- usage slot

USAGE_DAYS = 90
USAGE_CHARTS = 6


def metrics_available() -> bool:
    try:
        import banso.metrics.service  # noqa: F401
    except ImportError:  # pragma: no cover - the metrics capability ships with banso
        return False
    return True


def usage_charts(session: Session, account_id: int, today: date) -> list[dict[str, Any]]:
    """The latest value and the last 90 days of each usage metric that has data for this account."""
    from banso.metrics import service as metrics

    newest = [v for v in metrics.latest(session, account_id) if v.value is not None]
    newest = newest[:USAGE_CHARTS]
    if not newest:
        return []
    since = today - timedelta(days=USAGE_DAYS)
    points = metrics.series(session, account_id, [v.key for v in newest], since)
    charts = []
    for value in newest:
        series = points.get(value.key, [])
        charts.append(
            {
                "key": value.key,
                "name": value.name,
                "unit": value.unit,
                "latest": value.value,
                "as_of": value.as_of,
                "chart": {
                    "type": "line",
                    "labels": [p.as_of.isoformat() for p in series],
                    "datasets": [{"label": value.name, "data": [p.value for p in series]}],
                },
            }
        )
    return charts
