from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import Person
from tests.factories import make_account


def test_it_creates_lists_and_updates_tasks(
    session: Session, client: TestClient, bob: Person
) -> None:
    account = make_account(session)
    created = client.post(
        "/api/v1/tasks",
        headers=bob.headers,
        json={
            "title": "オンボーディング資料",
            "account_id": account.id,
            "assignee_id": bob.user.id,
            "due_date": "2026-11-01",
            "owner_type": "joint",
        },
    )
    assert created.status_code == 201, created.text
    task = created.json()
    listed = client.get(
        "/api/v1/tasks",
        headers=bob.headers,
        params={"assignee_id": bob.user.id, "as_of": date(2026, 11, 20).isoformat()},
    )
    assert [t["id"] for t in listed.json()["items"]] == [task["id"]]
    done = client.patch(
        f"/api/v1/tasks/{task['id']}", headers=bob.headers, json={"version": 1, "status": "done"}
    )
    assert done.json()["status"] == "done" and done.json()["completed_at"]
    stale = client.patch(
        f"/api/v1/tasks/{task['id']}",
        headers=bob.headers,
        json={"version": 1, "description": "追記"},
    )
    assert stale.status_code == 409 and stale.json()["current"] == {"version": 2}


def test_it_refuses_bad_input_and_viewers(
    session: Session, client: TestClient, bob: Person, charlie: Person
) -> None:
    bad = client.post(
        "/api/v1/tasks",
        headers=bob.headers,
        json={"title": "x", "owner_type": "vendor", "account_id": 999_999},
    )
    assert bad.status_code == 422
    unknown = client.post(
        "/api/v1/tasks", headers=bob.headers, json={"title": "x", "account_id": 999_999}
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "account_id"
    viewer = client.post("/api/v1/tasks", headers=charlie.headers, json={"title": "x"})
    assert viewer.status_code == 403
    assert (
        client.delete("/api/v1/tasks/999999?confirm=true", headers=bob.headers).status_code == 404
    )
