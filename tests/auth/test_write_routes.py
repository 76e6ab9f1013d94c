"""A viewer may read but never write: every write route of the app answers 403 to charlie."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from tests.auth.routes import WRITE_METHODS, api_routes
from tests.conftest import Person
from tests.factories import make_account, make_contact


def test_a_viewer_gets_403_on_every_write_route(
    app: FastAPI, client: TestClient, session: Session, charlie: Person
) -> None:
    """Walks app.routes, so routes added later by any capability are checked too.

    Record 1 of each kind exists, so a route that forgot its permission check would
    succeed (or fail validation) instead of answering 403.
    """
    account = make_account(session)
    make_contact(session, account)
    audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    checked = []
    for method, path, url in api_routes(app, WRITE_METHODS):
        response = client.request(method, f"{url}?confirm=true", json={}, headers=charlie.headers)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "forbidden"
        checked.append((method, path))
    assert {
        ("POST", "/api/v1/accounts"),
        ("PATCH", "/api/v1/accounts/{account_id}"),
        ("DELETE", "/api/v1/accounts/{account_id}"),
        ("POST", "/api/v1/contacts"),
        ("POST", "/api/v1/custom-fields"),
    } <= set(checked)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
    assert client.get(f"/api/v1/accounts/{account.id}", headers=charlie.headers).status_code == 200


def test_the_walk_finds_a_route_added_later(app: FastAPI) -> None:
    from fastapi import APIRouter

    extra = APIRouter()

    @extra.post("/later-things")
    def _later() -> dict[str, str]:
        return {}

    app.include_router(extra, prefix="/api/v1")
    walked = {(m, p) for m, p, _ in api_routes(app, WRITE_METHODS)}
    assert ("POST", "/api/v1/later-things") in walked
