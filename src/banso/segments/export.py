"""Export the customer list as the user sees it: the view's accounts, columns and order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.auth.models import User
from banso.imports.export import Export
from banso.listing import MAX_LIMIT
from banso.segments.view import CustomerView, matching, page


def cell(account: Account, column: str, owners: dict[int, str]) -> Any:
    """The plain value of one column of one account (as exported, before formatting)."""
    if column == "stage":
        return account.lifecycle_stage
    if column == "owner":
        return owners.get(account.owner_id) if account.owner_id else None
    if column == "tags":
        return "; ".join(sorted(t.tag for t in account.tags))
    if column == "domains":
        return "; ".join(sorted(d.domain for d in account.domains))
    if column.startswith("custom."):
        value = (account.custom or {}).get(column.removeprefix("custom."))
        return "; ".join(map(str, value)) if isinstance(value, list) else value
    if column in ("created_at", "updated_at"):
        return getattr(account, column).isoformat(timespec="seconds")
    return getattr(account, column)


def owner_names(session: Session) -> dict[int, str]:
    return {uid: name for uid, name in session.execute(select(User.id, User.name))}


def export_view(
    session: Session,
    view: CustomerView,
    user_id: int | None,
    label: Callable[[str], str],
) -> Export:
    """Header (the columns' labels, with the account id first) and rows, in the view's order."""
    owners = owner_names(session)
    matching(session, view, user_id)  # validates the view before the first byte is sent
    header = ["ID", *(label(c) for c in view.columns)]
    return Export(header, _rows(session, view, user_id, owners))


def _rows(
    session: Session, view: CustomerView, user_id: int | None, owners: dict[int, str]
) -> Iterator[list[Any]]:
    cursor: str | None = None
    while True:
        found = page(session, view, user_id, cursor, limit=MAX_LIMIT)
        for account in found.items:
            yield [account.id, *(cell(account, c, owners) for c in view.columns)]
        if found.next_cursor is None:
            return
        cursor = found.next_cursor
