"""Cursor pagination: every sort key, both directions, ties and NULLs, hostile cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.accounts.service import (
    ACCOUNT_SORTS,
    AccountFilter,
    ContactFilter,
    list_accounts,
    list_contacts,
)
from banso.errors import InvalidInput
from banso.listing import MAX_LIMIT
from tests.factories import make_account, make_contact

SORT_TAG = "sort-walk"
TIE_TIME = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
# Upper-case ASCII only, so that any database collation orders them as Python does.
NAMES = ["ALPHA", "BRAVO", "CHARLIE", "ALPHA", "DELTA"]
SEGMENTS = ["SMB", "MID", None, "ENT"]
INDUSTRIES = [None, "IT", "RETAIL"]
SIZES = [None, "1-9", "10-49", "1000+", "100-299", "1-9"]
STAGES = ["stable", None, "considering"]
SOURCES = [None, "WEB", "EVENT", "PARTNER", "WEB"]
MRRS = [0, 5000, 5000, 120000, 0, 98000]
NULLABLE = {"segment", "industry", "company_size", "lifecycle_stage", "source"}


def seed_sort_cases(session: Session, count: int = 23) -> list[Account]:
    """Accounts with many ties and NULLs in every sortable column (prime count: odd last page)."""
    accounts = [
        make_account(
            session,
            name=NAMES[i % len(NAMES)],
            segment=SEGMENTS[i % len(SEGMENTS)],
            industry=INDUSTRIES[i % len(INDUSTRIES)],
            company_size=SIZES[i % len(SIZES)],
            lifecycle_stage=STAGES[i % len(STAGES)],
            source=SOURCES[i % len(SOURCES)],
            tags=[SORT_TAG],
        )
        for i in range(count)
    ]
    for i, account in enumerate(accounts):
        values: dict[str, Any] = {"mrr": MRRS[i % len(MRRS)]}
        if i % 3 == 0:  # a third share one timestamp: ties on created_at and updated_at
            values |= {"created_at": TIE_TIME, "updated_at": TIE_TIME}
        session.execute(update(Account).where(Account.id == account.id).values(**values))
    session.flush()
    session.expire_all()
    return [session.get_one(Account, a.id) for a in accounts]


def expected_order(accounts: list[Account], sort: str) -> list[int]:
    """The order a user expects: by the value (NULL as the smallest), then by id."""
    name = sort.removeprefix("-")

    def key(account: Account) -> tuple[Any, int]:
        value = getattr(account, name)
        if value is None and name in NULLABLE:
            value = ""
        return value, account.id

    ordered = [a.id for a in sorted(accounts, key=key)]
    return ordered[::-1] if sort.startswith("-") else ordered


def walk_accounts(session: Session, sort: str, limit: int) -> tuple[list[int], int]:
    ids: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = list_accounts(
            session, AccountFilter(tag=SORT_TAG), sort=sort, cursor=cursor, limit=limit
        )
        pages += 1
        assert page.items, "a page after a cursor must never be empty"
        ids += [a.id for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return ids, pages


ALL_SORTS = [s for name in ACCOUNT_SORTS for s in (name, f"-{name}")]


@pytest.mark.parametrize("sort", ALL_SORTS)
def test_it_walks_every_page_without_duplicates_or_gaps(session: Session, sort: str) -> None:
    accounts = seed_sort_cases(session)
    ids, pages = walk_accounts(session, sort, limit=4)
    assert len(ids) == len(set(ids)) == 23
    assert ids == expected_order(accounts, sort)
    assert pages == 6


def test_it_walks_one_row_at_a_time_through_ties(session: Session) -> None:
    accounts = seed_sort_cases(session, count=11)
    ids, pages = walk_accounts(session, "-segment", limit=1)
    assert ids == expected_order(accounts, "-segment")
    assert pages == 11


def test_it_returns_one_page_without_a_cursor_when_everything_fits(session: Session) -> None:
    seed_sort_cases(session, count=5)
    page = list_accounts(session, AccountFilter(tag=SORT_TAG), limit=5)
    assert len(page.items) == 5
    assert page.next_cursor is None


def test_it_puts_nulls_first_ascending_and_last_descending(session: Session) -> None:
    seed_sort_cases(session, count=8)
    up = list_accounts(session, AccountFilter(tag=SORT_TAG), sort="segment", limit=50).items
    down = list_accounts(session, AccountFilter(tag=SORT_TAG), sort="-segment", limit=50).items
    assert up[0].segment is None and up[1].segment is None
    assert down[-1].segment is None and down[0].segment == "SMB"


def _first_cursor(session: Session, sort: str) -> str:
    seed_sort_cases(session, count=6)
    cursor = list_accounts(session, AccountFilter(tag=SORT_TAG), sort=sort, limit=2).next_cursor
    assert cursor is not None
    return cursor


def _raw_cursor(payload: Any) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _assert_cursor_refused(session: Session, sort: str, cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_accounts(session, AccountFilter(), sort=sort, cursor=cursor, limit=10)
    assert caught.value.errors[0].field == "cursor"
    assert "cursor" in str(caught.value)


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "!!!", "eyJzIjogIm5hbWUifQ", _raw_cursor([1, 2]), _raw_cursor("x")],
)
def test_it_refuses_a_cursor_that_is_not_one(session: Session, cursor: str) -> None:
    if cursor == "":
        # An empty cursor means "first page".
        assert list_accounts(session, AccountFilter(), cursor=cursor).items == []
        return
    _assert_cursor_refused(session, "name", cursor)


@pytest.mark.parametrize("other_sort", ["-name", "mrr", "-mrr", "updated_at"])
def test_it_refuses_a_cursor_from_another_sort(session: Session, other_sort: str) -> None:
    cursor = _first_cursor(session, "name")
    _assert_cursor_refused(session, other_sort, cursor)


def test_it_refuses_a_cursor_from_another_list(session: Session) -> None:
    account = make_account(session)
    for i in range(3):
        make_contact(session, account, name=f"C{i}")
    cursor = list_contacts(session, ContactFilter(), sort="name", limit=1).next_cursor
    assert cursor is not None
    _assert_cursor_refused(session, "name", cursor)


@pytest.mark.parametrize(
    ("sort", "values"),
    [
        ("mrr", ["lots", 1]),  # text where a number belongs
        ("mrr", [True, 1]),  # a boolean is not an amount
        ("mrr", [10**30, 1]),  # larger than any database integer
        ("mrr", [2**31, 1]),  # larger than the column
        ("name", ["ALPHA", 2**31]),
        ("name", ["ALPHA", "one"]),  # the id must be a number
        ("name", ["ALPHA", None]),
        ("name", [["nested"], 1]),
        ("name", ["A\x00", 1]),  # NUL cannot reach PostgreSQL
        ("name", [5, 1]),
        ("updated_at", [{"dt": "2025-04-01T09:00:00"}, 1]),  # no timezone
        ("updated_at", [{"dt": "yesterday"}, 1]),
        ("updated_at", ["2025-04-01T09:00:00+00:00", 1]),
        ("segment", [None, 1]),  # NULLs travel as the sort's stand-in, never as null
    ],
)
def test_it_refuses_a_tampered_cursor(session: Session, sort: str, values: list[Any]) -> None:
    cursor = _raw_cursor({"s": sort, "t": "Account.id", "v": values})
    _assert_cursor_refused(session, sort, cursor)


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_it_refuses_a_limit_out_of_bounds(session: Session, limit: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_accounts(session, AccountFilter(), limit=limit)
    assert caught.value.errors[0].field == "limit"
    assert str(MAX_LIMIT) in caught.value.errors[0].message


def test_it_accepts_the_largest_limit(session: Session) -> None:
    seed_sort_cases(session, count=3)
    assert len(list_accounts(session, AccountFilter(), limit=MAX_LIMIT).items) == 3


def test_it_names_the_sortable_keys_for_an_unknown_sort(session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_accounts(session, AccountFilter(), sort="password")
    assert caught.value.errors[0].field == "sort"
    assert "'mrr'" in caught.value.errors[0].message


def test_it_walks_contacts_with_null_roles(session: Session) -> None:
    account = make_account(session)
    roles = [None, "user", "decision_maker", None, "user", "power_user", None]
    contacts = [make_contact(session, account, name="SAME", role=r) for r in roles]
    for sort in ("role", "-role", "name", "-name"):
        ids: list[int] = []
        cursor: str | None = None
        while True:
            page = list_contacts(session, ContactFilter(), sort=sort, cursor=cursor, limit=2)
            ids += [c.id for c in page.items]
            if (cursor := page.next_cursor) is None:
                break
        field = sort.removeprefix("-")
        expected = [c.id for c in sorted(contacts, key=lambda c: (getattr(c, field) or "", c.id))]
        assert ids == (expected[::-1] if sort.startswith("-") else expected), sort
