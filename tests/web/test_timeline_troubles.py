"""The troubles list across customers: open ones with their age, resolved ones with the time
they took, filtered by severity and status."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Person
from tests.factories import make_account
from tests.timeline.helpers import at, make_entry

Browse = Callable[..., TestClient]


def test_it_lists_open_and_resolved_troubles(
    session: Session, web_client: Browse, alice: Person, charlie: Person
) -> None:
    account = make_account(session, name="トラブル株式会社", owner_id=alice.user.id)
    make_entry(
        session, alice.actor, account, kind="trouble", title="請求書が届かない", severity="critical"
    )
    make_entry(
        session,
        alice.actor,
        account,
        kind="trouble",
        title="通知メール遅延",
        severity="low",
        status="in_progress",
    )
    make_entry(
        session,
        alice.actor,
        account,
        kind="trouble",
        title="SSO設定ミス",
        occurred_at=at("2025-04-01", "09:00"),
        status="resolved",
        resolution="IdP側の設定修正",
        resolved_at=at("2025-04-02", "11:00"),
    )
    viewer = web_client(charlie)
    page = viewer.get("/troubles")
    assert page.status_code == 200
    assert "請求書が届かない" in page.text and "通知メール遅延" in page.text
    assert "SSO設定ミス" not in page.text
    assert "トラブル株式会社" in page.text and alice.user.name in page.text
    resolved = viewer.get("/troubles?state=resolved")
    assert "SSO設定ミス" in resolved.text and "1 day 2 hours" in resolved.text
    critical = viewer.get("/troubles?severity=critical")
    assert "請求書が届かない" in critical.text and "通知メール遅延" not in critical.text
    in_progress = viewer.get("/troubles?status=in_progress")
    assert "通知メール遅延" in in_progress.text and "請求書が届かない" not in in_progress.text


def test_it_explains_a_bad_filter(web_client: Browse, charlie: Person) -> None:
    answer = web_client(charlie).get("/troubles?severity=urgent")
    assert answer.status_code == 422
    assert "severity" in answer.text
