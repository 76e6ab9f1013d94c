"""Bulk changes on the customer list: assign an owner, add a tag, change the stage.

A bulk change runs in two steps: :func:`plan` says how many accounts would change (nothing is
written), then :func:`apply` changes them through the accounts service, so each account gets
its own audit entry and version check, exactly as if it had been edited by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import LIFECYCLE_STAGES, Account, AccountTag
from banso.accounts.schemas import AccountPatch
from banso.accounts.service import DB_INT_MAX, find, update_account
from banso.audit.service import Actor
from banso.auth.models import User
from banso.errors import InvalidInput
from banso.segments.view import CustomerView, conditions

ACTIONS = ("owner", "tag", "stage")
MAX_SELECTED = 10_000


@dataclass(frozen=True)
class BulkChange:
    action: str
    value: str
    ids: tuple[int, ...] | None  # None: every account the view matches


def check(
    session: Session, action: str, value: str, ids: Sequence[str], everything: bool
) -> BulkChange:
    """Validate a bulk change as the form sent it; raises InvalidInput naming the field."""
    value = value.strip()
    if action not in ACTIONS:
        raise InvalidInput.one(
            "action", f"unknown action {action!r}; use one of {', '.join(ACTIONS)}"
        )
    if action == "stage" and value not in LIFECYCLE_STAGES:
        raise InvalidInput.one(
            "value", f"{value!r} is not a stage; use one of {', '.join(LIFECYCLE_STAGES)}"
        )
    if action == "tag" and not 1 <= len(value) <= 100:
        raise InvalidInput.one("value", "give a tag of 1 to 100 characters")
    if action == "tag" and "\x00" in value:
        raise InvalidInput.one("value", "contains a NUL character (\\x00); remove it")
    if action == "owner" and value != "none":
        user = (
            find(session, User, int(value))
            if value.isdigit() and int(value) <= DB_INT_MAX
            else None
        )
        if user is None or not user.is_active:
            raise InvalidInput.one("value", f"{value!r} is not an active user")
    if everything:
        return BulkChange(action, value, None)
    if not ids:
        raise InvalidInput.one(
            "ids", "select at least one account, or choose all matching accounts"
        )
    if len(ids) > MAX_SELECTED or not all(i.isdigit() and 1 <= int(i) <= DB_INT_MAX for i in ids):
        raise InvalidInput.one("ids", "the selection is not a list of account ids; reload the list")
    return BulkChange(action, value, tuple(sorted({int(i) for i in ids})))


def _targets(
    session: Session, change: BulkChange, view: CustomerView, user_id: int | None
) -> list[int]:
    stmt = select(Account.id).where(*conditions(session, view, user_id))
    if change.ids is not None:
        # Selected rows count only while they still match the view the user is looking at.
        stmt = stmt.where(Account.id.in_(change.ids))
    stmt = stmt.where(~_already(change))
    return list(session.scalars(stmt.order_by(Account.id)))


def _already(change: BulkChange) -> Any:
    """Accounts the change would leave as they are (they are not counted or touched)."""
    if change.action == "stage":
        return Account.lifecycle_stage.is_not_distinct_from(change.value)
    if change.action == "owner":
        owner = None if change.value == "none" else int(change.value)
        return Account.owner_id.is_not_distinct_from(owner)
    return Account.tags.any(AccountTag.tag == change.value)


def plan(session: Session, change: BulkChange, view: CustomerView, user_id: int | None) -> int:
    """How many accounts the change would modify."""
    return len(_targets(session, change, view, user_id))


def apply(
    session: Session, actor: Actor, change: BulkChange, view: CustomerView, expected: int
) -> int:
    """Make the change; refuses when the number of accounts differs from the confirmed one."""
    targets = _targets(session, change, view, actor.user_id)
    if len(targets) != expected:
        raise InvalidInput.one(
            "confirm",
            f"{len(targets)} accounts would change now, not the {expected} you confirmed "
            "(someone changed them meanwhile); check the list and confirm again",
        )
    for account_id in targets:
        account = session.get(Account, account_id)
        assert account is not None
        update_account(session, actor, account_id, _patch(account, change))
    return len(targets)


def _patch(account: Account, change: BulkChange) -> AccountPatch:
    if change.action == "stage":
        return AccountPatch(version=account.version, lifecycle_stage=change.value)
    if change.action == "owner":
        owner = None if change.value == "none" else int(change.value)
        return AccountPatch(version=account.version, owner_id=owner)
    tags = sorted({t.tag for t in account.tags} | {change.value})
    return AccountPatch(version=account.version, tags=tags)
