"""Bulk changes on a view (counted, confirmed, audited) and its grouped numbers for charts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.models import AuditEntry
from banso.errors import InvalidInput
from banso.segments import bulk
from banso.segments.chart import chart
from banso.segments.view import parse_view
from tests.conftest import Person
from tests.factories import make_account, make_contract


@pytest.fixture
def accounts(session: Session) -> list[Account]:
    made = [
        make_account(session, name="東京商事", segment="SMB", source="web", company_size="1-9"),
        make_account(session, name="東京物流", segment="SMB", source="web", company_size="10-49"),
        make_account(session, name="大阪商事", segment="Enterprise", source="event"),
        make_account(session, name="札幌商事", segment="SMB", source="event", tags=["VIP"]),
    ]
    for account, mrr in zip(made, (10_000, 20_000, 300_000, 5_000), strict=True):
        make_contract(session, account, mrr=mrr)
    session.flush()
    return made


def test_it_counts_then_applies_a_change_to_all_matching_accounts(
    session: Session, accounts: list[Account], alice: Person, bob: Person
) -> None:
    view = parse_view(session, {"q": ["東京"]})
    change = bulk.check(session, "owner", str(bob.user.id), [], everything=True)
    assert bulk.plan(session, change, view, alice.user.id) == 2
    assert bulk.apply(session, alice.actor, change, view, expected=2) == 2
    owned = session.scalars(select(Account.name).where(Account.owner_id == bob.user.id))
    assert sorted(owned) == ["東京商事", "東京物流"]
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "account", AuditEntry.action == "update")
    ).all()
    assert {e.entity_id for e in entries} == {accounts[0].id, accounts[1].id}
    # Already done: nothing more to change.
    assert bulk.plan(session, change, view, alice.user.id) == 0


def test_it_changes_only_selected_rows_that_still_match(
    session: Session, accounts: list[Account], alice: Person
) -> None:
    view = parse_view(session, {"f.segment": ["SMB"]})
    ids = [str(accounts[0].id), str(accounts[2].id)]  # 大阪商事 is not SMB
    change = bulk.check(session, "tag", "要フォロー", ids, everything=False)
    assert bulk.plan(session, change, view, alice.user.id) == 1
    bulk.apply(session, alice.actor, change, view, expected=1)
    assert [t.tag for t in accounts[0].tags] == ["要フォロー"]


def test_it_refuses_when_the_confirmed_count_is_stale(
    session: Session, accounts: list[Account], alice: Person
) -> None:
    view = parse_view(session, {})
    change = bulk.check(session, "stage", "stable", [], everything=True)
    with pytest.raises(InvalidInput, match="4 accounts would change now, not the 3"):
        bulk.apply(session, alice.actor, change, view, expected=3)
    assert session.scalars(select(Account.lifecycle_stage)).all() == [None] * 4


@pytest.mark.parametrize(
    ("action", "value", "ids", "message"),
    [
        ("delete", "x", ["1"], "unknown action"),
        ("stage", "happy", ["1"], "not a stage"),
        ("owner", "99999", ["1"], "not an active user"),
        ("owner", "bob", ["1"], "not an active user"),
        ("tag", "", ["1"], "1 to 100"),
        ("tag", "VIP", [], "select at least one"),
        ("tag", "VIP", ["1; DROP TABLE accounts"], "not a list of account ids"),
    ],
)
def test_it_refuses_a_bad_bulk_change(
    session: Session, action: str, value: str, ids: list[str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        bulk.check(session, action, value, ids, everything=False)


def test_it_groups_counts_by_two_fields(session: Session, accounts: list[Account]) -> None:
    table = chart(session, parse_view(session, {}), None, by="segment", by2="source")
    assert table.rows == ["SMB", "Enterprise"]
    assert table.value("SMB", "web") == 2
    assert table.value("SMB", "event") == 1
    assert table.value("Enterprise", "event") == 1
    assert table.value("Enterprise", "web") == 0
    assert table.total == 4


def test_it_sums_mrr_by_a_field_within_the_view(session: Session, accounts: list[Account]) -> None:
    table = chart(session, parse_view(session, {"q": ["商事"]}), None, by="segment", measure="mrr")
    assert table.rows == ["Enterprise", "SMB"]
    assert table.value("Enterprise", None) == 300_000
    assert table.value("SMB", None) == 15_000  # 東京商事 + 札幌商事; 東京物流 is not 商事


def test_it_puts_accounts_without_a_value_last(session: Session, accounts: list[Account]) -> None:
    table = chart(session, parse_view(session, {}), None, by="tag")
    assert table.rows == ["VIP", None]
    assert table.value(None, None) == 3


def test_it_refuses_an_unknown_grouping(session: Session, accounts: list[Account]) -> None:
    with pytest.raises(InvalidInput, match="cannot group by 'password'"):
        chart(session, parse_view(session, {}), None, by="password")
    with pytest.raises(InvalidInput, match="unknown measure"):
        chart(session, parse_view(session, {}), None, by="segment", measure="avg")
