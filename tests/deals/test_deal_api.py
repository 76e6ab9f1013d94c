"""Create, read, change, list and delete deals through the REST API."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.audit.service import history
from tests.conftest import Person
from tests.deals.factories import make_deal
from tests.factories import make_account, make_contact

DEALS = "/api/v1/deals"


def test_it_records_an_inquiry_before_the_company_is_an_account(
    client: TestClient, bob: Person, session: Session
) -> None:
    body = {
        "title": "問い合わせ: 請求業務の効率化",
        "company_name": "株式会社ミライ物流",
        "source_channel": "ウェビナー",
        "company_size": "50-99",
        "problem": "請求書の発行に毎月3日かかっている",
        "budget": 1_200_000,
        "expected_mrr": 80_000,
        "story": "経営課題: 管理部門の人手不足。ストーリー: 請求を自動化して採用を抑える",
        "owner_id": bob.user.id,
        "inquiry_date": "2025-05-12",
        "expected_close_date": "2025-07-31",
        "external_ids": {"hubspot": "D-100"},
    }
    created = client.post(DEALS, json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    deal = created.json()
    assert deal["stage_key"] == "inquiry" and deal["outcome"] == "open"
    assert deal["budget"] == 1_200_000 and deal["account_id"] is None
    assert deal["closed_date"] is None and deal["version"] == 1
    got = client.get(f"{DEALS}/{deal['id']}", headers=bob.headers)
    assert got.json() == deal
    entries = history(session, "deal", deal["id"])
    assert [e.action for e in entries] == ["create"]
    assert entries[0].after is not None and entries[0].after["story"] == body["story"]


def test_it_links_a_deal_to_an_account_and_contact(
    client: TestClient, bob: Person, session: Session
) -> None:
    account = make_account(session, name="既存顧客株式会社")
    contact = make_contact(session, account)
    body = {"title": "追加導入", "account_id": account.id, "contact_id": contact.id}
    deal = client.post(DEALS, json=body, headers=bob.headers).json()
    assert (deal["account_id"], deal["contact_id"], deal["company_name"]) == (
        account.id,
        contact.id,
        None,
    )


def test_it_updates_with_the_version_read_and_audits_the_change(
    client: TestClient, bob: Person, session: Session
) -> None:
    deal = make_deal(session, budget=500_000)
    url = f"{DEALS}/{deal.id}"
    changed = client.patch(
        url, json={"version": 1, "stage_key": "proposal", "budget": 700_000}, headers=bob.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["stage_key"], changed.json()["budget"]) == ("proposal", 700_000)
    assert changed.json()["version"] == 2
    stale = client.patch(url, json={"version": 1, "title": "古い版"}, headers=bob.headers)
    assert stale.status_code == 409
    assert stale.json()["error"] == "conflict"
    assert stale.json()["current"]["version"] == 2
    assert stale.json()["current"]["title"] == deal.title
    update = history(session, "deal", deal.id)[-1]
    assert update.action == "update"
    assert update.before is not None and update.after is not None
    assert (update.before["budget"], update.after["budget"]) == (500_000, 700_000)


def test_it_deletes_only_when_confirmed(client: TestClient, bob: Person, session: Session) -> None:
    deal = make_deal(session)
    url = f"{DEALS}/{deal.id}"
    refused = client.delete(url, headers=bob.headers)
    assert refused.status_code == 409
    assert refused.json()["error"] == "confirmation_required"
    assert refused.json()["impact"] == {"deals": 1, "contracts_kept": 0}
    assert client.get(url, headers=bob.headers).status_code == 200
    assert client.delete(f"{url}?confirm=true", headers=bob.headers).status_code == 204
    assert client.get(url, headers=bob.headers).status_code == 404
    assert history(session, "deal", deal.id)[-1].action == "delete"


def test_a_viewer_reads_but_cannot_write(
    client: TestClient, charlie: Person, session: Session
) -> None:
    deal = make_deal(session)
    assert client.get(f"{DEALS}/{deal.id}", headers=charlie.headers).status_code == 200
    body = {"title": "x", "company_name": "y"}
    assert client.post(DEALS, json=body, headers=charlie.headers).status_code == 403


def _ids(client: TestClient, person: Person, **params: Any) -> list[int]:
    response = client.get(DEALS, params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]


def test_it_filters_on_every_field(client: TestClient, bob: Person, session: Session) -> None:
    account = make_account(session, name="フィルタ商事株式会社")
    a = make_deal(
        session,
        title="勤怠",
        source_channel="展示会",
        company_size="10-49",
        owner_id=bob.user.id,
        inquiry_date=date(2025, 4, 1),
    )
    b = make_deal(
        session,
        title="経費精算",
        account_id=account.id,
        company_name=None,
        source_channel="Web",
        company_size="1000+",
        stage_key="lost",
        lost_reason_key="price",
        inquiry_date=date(2025, 6, 15),
    )
    c = make_deal(session, title="解約防止", stage_key="archived", lost_reason_key="duplicate")
    assert _ids(client, bob, stage="lost") == [b.id]
    assert _ids(client, bob, outcome="open") == [a.id]
    assert _ids(client, bob, outcome="archived") == [c.id]
    assert _ids(client, bob, source_channel="展示会") == [a.id]
    assert _ids(client, bob, company_size="1000+") == [b.id]
    assert _ids(client, bob, owner_id=bob.user.id) == [a.id]
    assert _ids(client, bob, account_id=account.id) == [b.id]
    assert _ids(client, bob, lost_reason_key="duplicate") == [c.id]
    assert _ids(client, bob, inquiry_from="2025-05-01") == [b.id]
    assert _ids(client, bob, inquiry_to="2025-05-01") == [a.id]
    assert _ids(client, bob, inquiry_from="2025-04-01", inquiry_to="2025-06-15") == [b.id, a.id]
    assert _ids(client, bob, q="解約") == [c.id]  # two characters of Japanese
    assert _ids(client, bob, q="フィルタ") == [b.id]  # the linked account's name
    assert _ids(client, bob, q="サンプル") == [c.id, a.id]  # the inquiry's company name
    assert _ids(client, bob, q="100%") == []


def test_it_sorts_and_pages_through_deals(
    client: TestClient, bob: Person, session: Session
) -> None:
    budgets = [300, None, 100, 200, 100]
    made = [make_deal(session, title=f"案件{i}", budget=b) for i, b in enumerate(budgets)]
    by_budget = sorted(made, key=lambda d: (d.budget if d.budget is not None else -1, d.id))
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "budget", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(DEALS, params=params, headers=bob.headers).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [d.id for d in by_budget]
    newest_first = _ids(client, bob)
    assert newest_first == sorted(newest_first, reverse=True)
    make_deal(session, title="交渉中", stage_key="negotiation")
    by_stage = client.get(DEALS, params={"sort": "-stage", "limit": 1}, headers=bob.headers)
    assert by_stage.json()["items"][0]["stage_key"] == "negotiation"


def test_it_filters_on_custom_fields(client: TestClient, alice: Person, session: Session) -> None:
    field = {
        "entity": "deal",
        "key": "decision_maker",
        "type": "single_choice",
        "label_ja": "決裁者",
        "label_en": "Decision maker",
        "choices": ["社長", "部長"],
    }
    assert client.post("/api/v1/custom-fields", json=field, headers=alice.headers).is_success
    body = {"title": "t", "company_name": "c", "custom": {"decision_maker": "社長"}}
    deal = client.post(DEALS, json=body, headers=alice.headers).json()
    make_deal(session)
    assert _ids(client, alice, **{"custom.decision_maker": "社長"}) == [deal["id"]]
    bad = {"title": "t", "company_name": "c", "custom": {"decision_maker": "課長"}}
    refused = client.post(DEALS, json=bad, headers=alice.headers)
    assert refused.status_code == 422
    assert "decision_maker" in refused.text
