"""A view of the customer list: search, filters, sort and columns, read from and written to URLs.

The same view drives the list page, its export, its chart, bulk actions and saved segments,
so what a user sees is exactly what they export, chart, change or save.

URL form: ``q=東京&f.stage=stable&f.stage=early_operation&f.owner=me&f.custom.plan=Pro
&sort=-mrr&cols=name,stage,owner,mrr``. Every ``f.<field>`` may repeat: values of one field
are alternatives (any of them), different fields must all match; tags must all be present;
an empty value filters nothing (a form field left at "any"); ``f.owner=none`` finds accounts
without an owner.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, text
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.identity import normalize_domain
from banso.accounts.models import Account, AccountDomain, AccountTag, CustomFieldDefinition
from banso.accounts.service import ACCOUNT_SORTS, DB_INT_MAX, custom_matches
from banso.errors import FieldError, InvalidInput
from banso.listing import Page, paginate
from banso.search.service import account_matches

# Fields compared as one of the given values ("" means "not set").
CHOICE_FIELDS: dict[str, Any] = {
    "stage": Account.lifecycle_stage,
    "segment": Account.segment,
    "industry": Account.industry,
    "company_size": Account.company_size,
    "source": Account.source,
}
OTHER_FILTERS = ("owner", "tag", "domain", "mrr_min", "mrr_max")
# Days (YYYY-MM-DD, in the workspace timezone) bounding when accounts were created or changed.
DATE_FILTERS: dict[str, tuple[Any, bool]] = {
    "created_from": (Account.created_at, False),
    "created_to": (Account.created_at, True),
    "updated_from": (Account.updated_at, False),
    "updated_to": (Account.updated_at, True),
}
STANDARD_COLUMNS = (
    "name",
    "name_kana",
    "stage",
    "owner",
    "segment",
    "industry",
    "company_size",
    "source",
    "mrr",
    "tags",
    "domains",
    "created_at",
    "updated_at",
)
DEFAULT_COLUMNS = ("name", "stage", "owner", "segment", "mrr", "tags", "updated_at")
# Column → the list's sort key (banso.accounts.service.ACCOUNT_SORTS).
SORT_OF_COLUMN = {
    "name": "name",
    "stage": "lifecycle_stage",
    "segment": "segment",
    "industry": "industry",
    "company_size": "company_size",
    "source": "source",
    "mrr": "mrr",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
DEFAULT_SORT = "name"
PAGE_SIZE = 50
MAX_VALUES = 50


@dataclass
class CustomerView:
    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = DEFAULT_SORT
    columns: list[str] = field(default_factory=lambda: list(DEFAULT_COLUMNS))

    def params(self, **override: Any) -> list[tuple[str, str]]:
        """The view as URL parameters (defaults left out, so links stay short)."""
        view = {"q": self.q, "sort": self.sort, "cols": ",".join(self.columns), **override}
        pairs: list[tuple[str, str]] = []
        if view["q"]:
            pairs.append(("q", view["q"]))
        for name, values in self.filters.items():
            pairs.extend((f"f.{name}", v) for v in values)
        if view["sort"] != DEFAULT_SORT:
            pairs.append(("sort", view["sort"]))
        if view["cols"] != ",".join(DEFAULT_COLUMNS):
            pairs.append(("cols", view["cols"]))
        return pairs

    def query_string(self, **override: Any) -> str:
        return urlencode(self.params(**override))

    def without(self, name: str, value: str) -> str:
        """The query string of this view less one filter value (to remove it with a click)."""
        kept = {k: [v for v in vs if (k, v) != (name, value)] for k, vs in self.filters.items()}
        smaller = CustomerView(self.q, {k: vs for k, vs in kept.items() if vs}, self.sort)
        smaller.columns = self.columns
        return smaller.query_string()

    def as_saved(self) -> dict[str, Any]:
        """What a saved segment keeps."""
        return {"q": self.q, "filters": self.filters, "sort": self.sort, "cols": self.columns}

    def sort_column(self) -> str:
        key = self.sort.removeprefix("-")
        return next((c for c, s in SORT_OF_COLUMN.items() if s == key), key)


def custom_definitions(session: Session) -> list[CustomFieldDefinition]:
    return customfields.definitions(session, "account")


def parse_view(session: Session, params: Mapping[str, Sequence[str]]) -> CustomerView:
    """Read a view from query parameters; every unknown or bad parameter is named in the error."""
    errors: list[FieldError] = []
    custom_keys = {d.key for d in custom_definitions(session)}
    view = CustomerView(q=_one(params, "q").strip())
    if "\x00" in view.q:
        errors.append(FieldError("q", "contains a NUL character (\\x00); remove it"))
    for name, values in params.items():
        if not name.startswith("f."):
            continue
        key = name.removeprefix("f.")
        # An empty value is a form field left at "any": it filters nothing.
        given = [v.strip() for v in values if v.strip()]
        problem = _filter_problem(key, given, custom_keys)
        if problem:
            errors.append(FieldError(name, problem))
        elif given:
            view.filters[key] = given
    view.sort = _one(params, "sort") or DEFAULT_SORT
    if view.sort.removeprefix("-") not in ACCOUNT_SORTS:
        sortable = ", ".join(sorted(SORT_OF_COLUMN))
        errors.append(FieldError("sort", f"cannot sort by {view.sort!r}; use one of {sortable}"))
    cols = _one(params, "cols")
    if cols:
        view.columns = [c.strip() for c in cols.split(",") if c.strip()]
        unknown = [c for c in view.columns if not _is_column(c, custom_keys)]
        if unknown:
            errors.append(FieldError("cols", f"no such column: {', '.join(unknown)}"))
        if not view.columns:
            view.columns = list(DEFAULT_COLUMNS)
    if errors:
        raise InvalidInput(errors)
    return view


def view_from_saved(saved: Mapping[str, Any]) -> dict[str, list[str]]:
    """A saved segment's view as query parameters (to be read by :func:`parse_view`)."""
    params: dict[str, list[str]] = {}
    if saved.get("q"):
        params["q"] = [saved["q"]]
    for name, values in (saved.get("filters") or {}).items():
        params[f"f.{name}"] = list(values)
    if saved.get("sort"):
        params["sort"] = [saved["sort"]]
    if saved.get("cols"):
        params["cols"] = [",".join(saved["cols"])]
    return params


def _one(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name) or []
    return values[-1] if values else ""


def _is_column(name: str, custom_keys: set[str]) -> bool:
    return name in STANDARD_COLUMNS or (
        name.startswith("custom.") and name.removeprefix("custom.") in custom_keys
    )


def _filter_problem(key: str, values: Sequence[str], custom_keys: set[str]) -> str | None:
    known = key in CHOICE_FIELDS or key in OTHER_FILTERS or key in DATE_FILTERS
    if not known and not (key.startswith("custom.") and key[7:] in custom_keys):
        fields = ", ".join([*CHOICE_FIELDS, *OTHER_FILTERS, *DATE_FILTERS, "custom.<key>"])
        return f"there is no field {key!r} to filter on; use one of {fields}"
    if len(values) > MAX_VALUES:
        return f"has {len(values)} values; give at most {MAX_VALUES}"
    if any("\x00" in v for v in values):
        return "contains a NUL character (\\x00); remove it"
    if key in ("mrr_min", "mrr_max"):
        return next((_amount_problem(v) for v in values if _amount_problem(v)), None)
    if key in DATE_FILTERS:
        return next((f"{v!r} is not a day like 2026-04-01" for v in values if not _is_day(v)), None)
    if key == "domain":
        return next(
            (f"{v!r} is not a domain like example.co.jp" for v in values if not _is_domain(v)), None
        )
    if key == "owner":
        bad = [v for v in values if v not in ("me", "none") and not _is_id(v)]
        return f"{bad[0]!r} is not a user; use me, none or a user id" if bad else None
    return None


def _amount_problem(value: str) -> str | None:
    text = value.replace(",", "").strip()
    if not text.lstrip("-").isdigit() or abs(int(text)) > DB_INT_MAX:
        return f"{value!r} is not a whole amount, e.g. 50000"
    return None


def _is_day(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_domain(value: str) -> bool:
    try:
        normalize_domain(value)
    except ValueError:
        return False
    return True


def _is_id(value: str) -> bool:
    return value.isdigit() and 1 <= int(value) <= DB_INT_MAX


# ------------------------------------------------------------------ the query


def conditions(session: Session, view: CustomerView, user_id: int | None) -> list[Any]:
    """The WHERE conditions on Account that the view stands for."""
    found: list[Any] = []
    if view.q:
        matches = account_matches(session, view.q)
        if matches is not None:
            found.append(matches)
    for key, values in view.filters.items():
        condition = _filter(session, key, [v for v in values], user_id)
        if condition is not None:
            found.append(condition)
    return found


def _filter(
    session: Session, key: str, values: list[str], user_id: int | None
) -> ColumnElement[bool] | None:
    if not values:
        return None
    if key in CHOICE_FIELDS:
        return _one_of(CHOICE_FIELDS[key], values)
    if key == "owner":
        owners = [user_id if v == "me" else None if v == "none" else int(v) for v in values]
        return _one_of(Account.owner_id, owners)
    if key == "tag":
        return and_(*(_has_tag(t) for t in values if t))
    if key in DATE_FILTERS:
        return _day_bound(session, key, values[-1])
    if key == "domain":
        domains = [normalize_domain(v) for v in values]
        return exists().where(
            AccountDomain.account_id == Account.id, AccountDomain.domain.in_(domains)
        )
    if key in ("mrr_min", "mrr_max"):
        amount = int(values[-1].replace(",", "").strip())
        return Account.mrr >= amount if key == "mrr_min" else Account.mrr <= amount
    custom_key = key.removeprefix("custom.")
    return or_(*(custom_matches(session, "account", Account.custom, custom_key, v) for v in values))


def _day_bound(session: Session, key: str, value: str) -> ColumnElement[bool]:
    """From the start of the day, or to its end, in the workspace's timezone (JST by default)."""
    column, upper = DATE_FILTERS[key]
    zone = ZoneInfo(session.info.get("timezone") or "Asia/Tokyo")
    day = date.fromisoformat(value) + (timedelta(days=1) if upper else timedelta())
    start = datetime.combine(day, time.min, zone)
    return column < start if upper else column >= start


def _one_of(column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    wanted = set(values)
    given = [v for v in wanted if v is not None]
    parts = [column.in_(given)] if given else []
    if None in wanted:
        parts.append(column.is_(None))
    return or_(*parts)


def _has_tag(tag: str) -> ColumnElement[bool]:
    return exists().where(AccountTag.account_id == Account.id, AccountTag.tag == tag)


def distinct_values(session: Session, column: str, limit: int = 200) -> list[str]:
    """The values a text column holds, read by skipping through its index (a few ms at any size).

    ``SELECT DISTINCT`` would read every row; stepping from one value to the next through
    the index reads one entry per distinct value.
    """
    table, name = {
        "segment": ("accounts", "segment"),
        "industry": ("accounts", "industry"),
        "source": ("accounts", "source"),
        "tag": ("account_tags", "tag"),
    }[column]
    sql = text(
        f"WITH RECURSIVE v(x, n) AS ("
        f" SELECT (SELECT min({name}) FROM {table}), 1"
        f" UNION ALL SELECT (SELECT min({name}) FROM {table} WHERE {name} > v.x), n + 1"
        f" FROM v WHERE v.x IS NOT NULL AND n < :limit)"
        f" SELECT x FROM v WHERE x IS NOT NULL"
    )
    return list(session.scalars(sql, {"limit": limit}))


def matching(session: Session, view: CustomerView, user_id: int | None) -> Select[Any]:
    return select(Account).where(*conditions(session, view, user_id))


def count(session: Session, view: CustomerView, user_id: int | None) -> int:
    stmt = select(func.count()).select_from(Account).where(*conditions(session, view, user_id))
    return session.scalar(stmt) or 0


def page(
    session: Session,
    view: CustomerView,
    user_id: int | None,
    cursor: str | None,
    *,
    limit: int = PAGE_SIZE,
) -> Page[Account]:
    return paginate(
        session,
        matching(session, view, user_id),
        id_column=Account.id,
        sortable=ACCOUNT_SORTS,
        sort=view.sort,
        cursor=cursor or None,
        limit=limit,
    )
