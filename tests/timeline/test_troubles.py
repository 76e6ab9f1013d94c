"""Troubles: resolving sets the resolved time, reopening clears it, and the troubles list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import InvalidInput
from banso.timeline.schemas import EntryPatch
from banso.timeline.service import resolution_time, troubles, update_entry
from tests.factories import make_account
from tests.timeline.helpers import at, make_entry


def test_it_resolves_a_trouble_now_when_no_time_is_given(session: Session, actor: Actor) -> None:
    account = make_account(session)
    trouble = make_entry(session, actor, account, kind="trouble")
    assert trouble.resolved_at is None
    patch = EntryPatch(version=trouble.version, status="resolved", resolution="設定を修正")
    update_entry(session, actor, trouble.id, patch)
    assert trouble.status == "resolved"
    assert trouble.resolved_at is not None and trouble.resolved_at > trouble.occurred_at


def test_it_measures_the_time_to_resolve(session: Session, actor: Actor) -> None:
    account = make_account(session)
    trouble = make_entry(
        session,
        actor,
        account,
        kind="trouble",
        occurred_at=at("2025-04-01", "09:00"),
        status="resolved",
        resolution="CSVの文字コードを修正",
        resolved_at=at("2025-04-03", "12:00"),
    )
    assert resolution_time(trouble) == timedelta(days=2, hours=3)


def test_it_clears_the_resolved_time_when_reopened(session: Session, actor: Actor) -> None:
    account = make_account(session)
    trouble = make_entry(
        session,
        actor,
        account,
        kind="trouble",
        status="resolved",
        resolution="暫定対応",
        resolved_at=at("2025-04-02"),
    )
    update_entry(session, actor, trouble.id, EntryPatch(version=trouble.version, status="open"))
    assert trouble.status == "open"
    assert trouble.resolved_at is None


def test_it_refuses_to_resolve_without_a_resolution(session: Session, actor: Actor) -> None:
    account = make_account(session)
    trouble = make_entry(session, actor, account, kind="trouble")
    with pytest.raises(InvalidInput) as caught:
        update_entry(session, actor, trouble.id, EntryPatch(version=1, status="resolved"))
    assert {e.field for e in caught.value.errors} == {"resolution"}
    assert trouble.status == "open"
    assert trouble.version == 1


def test_it_lists_open_troubles_oldest_first_and_resolved_ones_apart(
    session: Session, actor: Actor
) -> None:
    first, second = make_account(session, name="一社目"), make_account(session, name="二社目")
    old = make_entry(
        session,
        actor,
        first,
        kind="trouble",
        title="ログイン不可",
        occurred_at=at("2025-03-01"),
        severity="critical",
    )
    new = make_entry(
        session,
        actor,
        second,
        kind="trouble",
        title="CSV文字化け",
        occurred_at=at("2025-04-01"),
        status="in_progress",
        severity="low",
    )
    done = make_entry(
        session,
        actor,
        first,
        kind="trouble",
        title="通知遅延",
        status="resolved",
        resolution="キュー増設",
        resolved_at=at("2025-04-02"),
    )
    make_entry(session, actor, first, kind="hearing")
    open_page = troubles(session)
    assert [r.entry.id for r in open_page.items] == [old.id, new.id]
    assert open_page.items[0].account_name == "一社目"
    assert [r.entry.id for r in troubles(session, resolved=True).items] == [done.id]
    assert [r.entry.id for r in troubles(session, severity="low").items] == [new.id]
    assert [r.entry.id for r in troubles(session, status="open").items] == [old.id]
    resolved = troubles(session, resolved=True).items[0]
    assert resolved.resolution_time == timedelta(days=1)


def test_it_pages_through_troubles(session: Session, actor: Actor) -> None:
    account = make_account(session)
    made = [
        make_entry(session, actor, account, kind="trouble", occurred_at=at(f"2025-04-{d:02d}"))
        for d in range(1, 6)
    ]
    first = troubles(session, limit=2)
    second = troubles(session, limit=2, cursor=first.next_cursor)
    third = troubles(session, limit=2, cursor=second.next_cursor)
    seen = [r.entry.id for p in (first, second, third) for r in p.items]
    assert seen == [e.id for e in made]
    assert third.next_cursor is None


@pytest.mark.parametrize(
    "bad", [{"severity": "urgent"}, {"status": "resolved"}, {"cursor": "not-a-cursor"}]
)
def test_it_refuses_bad_trouble_filters(session: Session, bad: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        troubles(session, **bad)  # type: ignore[arg-type]
