"""The audit log page: filters, newest first, keyset pages of 50, readable differences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.i18n import use_locale
from banso.web.admin import changes
from tests.conftest import Person, make_person
from tests.web.admin_forms import post_form
from tests.web.conftest import SignIn

PAGE = "/admin/audit"
T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo


def entry(session: Session, minutes: int, **fields: Any) -> AuditEntry:
    values = {
        "actor": "cli",
        "action": "update",
        "entity": "account",
        "entity_id": 1,
        "before": {"n": minutes - 1},
        "after": {"n": minutes},
        **fields,
    }
    row = AuditEntry(at=T0 + timedelta(minutes=minutes), **values)
    session.add(row)
    session.flush()
    return row


def shown(html: str) -> list[int]:
    """The ids of the entries a page shows, in order (each row carries its time)."""
    rows = html.split("<tbody>", 1)[1].split("</table>\n</div>", 1)[0] if "<tbody>" in html else ""
    return [int(part.split('"', 1)[0]) for part in rows.split('data-entry="')[1:]]


@pytest.fixture
def log(session: Session, alice: Person, bob: Person) -> dict[str, AuditEntry]:
    return {
        "old": entry(
            session,
            0,
            entity="contact",
            entity_id=7,
            actor="bob@example.com via api",
            actor_user_id=bob.user.id,
            action="create",
            before=None,
            after={"name": "山田"},
        ),
        "mid": entry(
            session,
            60 * 24,
            entity="account",
            entity_id=3,
            actor="alice@example.com via web",
            actor_user_id=alice.user.id,
            before={"segment": None, "custom": {"plan": "Gold"}},
            after={"segment": "SMB", "custom": {"plan": "Silver"}},
        ),
        "new": entry(
            session,
            60 * 48,
            entity="account",
            entity_id=3,
            actor="bob@example.com via web",
            actor_user_id=bob.user.id,
            action="delete",
            before={"name": "監査株式会社"},
            after=None,
        ),
    }


def test_it_shows_the_log_newest_first_with_what_changed(
    signed_in: SignIn, alice: Person, log: dict[str, AuditEntry]
) -> None:
    page = signed_in(alice).get(PAGE)
    assert page.status_code == 200
    ours = [i for i in shown(page.text) if i in {e.id for e in log.values()}]
    assert ours == [log["new"].id, log["mid"].id, log["old"].id]
    mid = page.text.split(f'data-entry="{log["mid"].id}"', 1)[1].split('data-entry="', 1)[0]
    assert "custom.plan" in mid and "Gold" in mid and "Silver" in mid and "SMB" in mid
    assert "name" not in mid.split("audit-diff", 1)[1]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"entity": "account"}, ["new", "mid"]),
        ({"entity": "contact"}, ["old"]),
        ({"entity": "account", "entity_id": "3"}, ["new", "mid"]),
        ({"entity_id": "7"}, ["old"]),
        ({"action": "delete"}, ["new"]),
        ({"action": "create"}, ["old"]),
        ({"since": "2026-03-02", "until": "2026-03-31"}, ["new", "mid"]),
        ({"until": "2026-03-02"}, ["mid", "old"]),
        ({"since": "2026-03-02", "until": "2026-03-02"}, ["mid"]),
        ({"since": "2026-03-04", "until": "2026-03-31"}, []),
        ({"since": "0001-01-01", "until": "9999-12-31"}, ["new", "mid", "old"]),
    ],
)
def test_it_filters_the_log(
    signed_in: SignIn,
    alice: Person,
    log: dict[str, AuditEntry],
    params: dict[str, str],
    expected: list[str],
) -> None:
    page = signed_in(alice).get(PAGE, params=params)
    assert page.status_code == 200, page.text[:300]
    ids = [i for i in shown(page.text) if i in {e.id for e in log.values()}]
    assert ids == [log[name].id for name in expected]
    if params.get("until", "").startswith("2026-03"):
        assert ids == shown(page.text), "nothing from outside the period"
    if not expected:
        assert "No entries match these filters." in page.text


def test_it_filters_by_who_made_the_change(
    signed_in: SignIn, alice: Person, bob: Person, log: dict[str, AuditEntry]
) -> None:
    client = signed_in(alice)
    bobs = shown(client.get(PAGE, params={"actor": str(bob.user.id)}).text)
    assert bobs == [log["new"].id, log["old"].id]
    alices = shown(client.get(PAGE, params={"actor": str(alice.user.id)}).text)
    assert log["mid"].id in alices and log["new"].id not in alices


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"entity_id": "abc"}, "Enter a record number (digits only)."),
        ({"entity_id": "99999999999"}, "Enter a record number (digits only)."),
        ({"actor": "alice"}, "Choose a user from the list."),
        ({"since": "yesterday"}, "Enter a date as YYYY-MM-DD."),
        ({"until": "2026-13-01"}, "Enter a date as YYYY-MM-DD."),
        ({"since": "2026-03-05", "until": "2026-03-01"}, "The end date must not be before"),
        ({"entity": "account\x00"}, "Remove the NUL character."),
        ({"cursor": "not-a-cursor"}, "This page link is no longer valid"),
    ],
)
def test_it_says_what_is_wrong_with_a_filter(
    signed_in: SignIn,
    alice: Person,
    log: dict[str, AuditEntry],
    params: dict[str, str],
    message: str,
) -> None:
    page = signed_in(alice).get(PAGE, params=params)
    assert page.status_code == 422
    assert message in page.text
    assert shown(page.text) == []


def test_it_pages_through_a_long_log_fifty_at_a_time(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    rows = [
        {
            "at": T0 + timedelta(seconds=i // 3),
            "actor": "cli",
            "action": "update",
            "entity": "deal",
            "entity_id": i,
            "before": {"n": i},
            "after": {"n": i + 1},
        }
        for i in range(120)
    ]
    session.execute(insert(AuditEntry), rows)
    session.flush()
    client = signed_in(alice)
    seen: list[int] = []
    url: str | None = PAGE + "?entity=deal"
    pages = 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        ids = shown(page.text)
        assert len(ids) <= 50
        seen.extend(ids)
        pages += 1
        found = page.text.split('<a href="')
        older = [p.split('"', 1)[0] for p in found if "Older entries" in p.split("</a>", 1)[0]]
        url = older[0].replace("&amp;", "&") if older else None
        if url:
            assert "entity=deal" in url and "cursor=" in url
    assert pages == 3
    assert len(seen) == 120 and len(set(seen)) == 120
    # Later rows have later (or equal) times and higher ids: newest first is by id, descending.
    assert seen == sorted(seen, reverse=True)


def test_it_lets_a_manager_read_it(
    signed_in: SignIn, session: Session, log: dict[str, AuditEntry]
) -> None:
    manager = make_person(session, "mia@example.com", "manager")
    page = signed_in(manager).get(PAGE)
    assert page.status_code == 200
    assert log["new"].id in shown(page.text)
    assert 'href="/admin/users/' not in page.text, "managers get no links to admin-only pages"


def test_it_records_changes_made_in_the_admin_pages(
    signed_in: SignIn, session: Session, alice: Person, bob: Person
) -> None:
    admin = signed_in(alice)
    url = f"/admin/users/{bob.user.id}"
    post_form(
        admin,
        url,
        url,
        {"name": "bob", "role": "viewer", "locale": "", "version": bob.user.version},
    )
    page = admin.get(PAGE, params={"entity": "user", "entity_id": str(bob.user.id)}).text
    assert "alice@example.com via web" in page
    assert "role" in page and "csm" in page and "viewer" in page


def test_changes_name_only_what_differs() -> None:
    with use_locale("en"):
        _changes_name_only_what_differs()


def _changes_name_only_what_differs() -> None:
    assert changes({"a": 1, "b": "x", "c": None}, {"a": 1, "b": "y", "d": None}) == [
        {"key": "b", "before": "x", "after": "y"}
    ]
    assert changes(None, {"name": "A", "tags": ["x", "y"], "key": True}) == [
        {"key": "name", "before": None, "after": "A"},
        {"key": "tags", "before": None, "after": "x, y"},
        {"key": "key", "before": None, "after": "Yes"},
    ]
    assert changes({"custom": {"plan": "Gold", "size": 3}}, {"custom": {"plan": "Gold"}}) == [
        {"key": "custom.size", "before": "3", "after": None}
    ]
    assert changes({"order": ["a", "b"]}, {"order": ["b", "a"]}) == [
        {"key": "order", "before": "a, b", "after": "b, a"}
    ]


def test_it_reads_dates_in_the_workspace_timezone(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    late = entry(session, 0, entity="deal", entity_id=9)
    late.at = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)  # 2026-03-02 00:30 in Tokyo
    session.flush()
    client = signed_in(alice)
    on_the_2nd = shown(client.get(PAGE, params={"since": "2026-03-02", "until": "2026-03-02"}).text)
    on_the_1st = shown(client.get(PAGE, params={"since": "2026-03-01", "until": "2026-03-01"}).text)
    assert (on_the_2nd, on_the_1st) == ([late.id], [])
