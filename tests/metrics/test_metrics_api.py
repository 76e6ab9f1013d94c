"""/api/v1/metrics: admins change definitions, everyone reads an account's values."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.metrics.models import MetricSnapshot
from tests.conftest import Person
from tests.factories import make_account

NEW = {
    "key": "exports_7d",
    "name": "エクスポート（7日）",
    "spec": {
        "kind": "events",
        "aggregation": "count",
        "window_days": 7,
        "filter": {"events": ["Export Downloaded"]},
    },
}


def test_it_lists_the_standard_set(client: TestClient, charlie: Person) -> None:
    response = client.get("/api/v1/metrics", headers=charlie.headers)
    assert response.status_code == 200
    assert len(response.json()) == 20


def test_it_adds_a_metric_and_keeps_the_others(client: TestClient, alice: Person) -> None:
    response = client.put("/api/v1/metrics", json=[NEW], headers=alice.headers)
    assert response.status_code == 200, response.text
    keys = [m["key"] for m in response.json()]
    assert len(keys) == 21 and keys[-1] == "exports_7d"
    shown = client.get("/api/v1/metrics/exports_7d", headers=alice.headers).json()
    assert shown["name"] == "エクスポート（7日）"


def test_it_refuses_a_bad_definition_and_changes_nothing(client: TestClient, alice: Person) -> None:
    bad = {**NEW, "spec": {**NEW["spec"], "window_days": -3}}
    response = client.put("/api/v1/metrics", json=[bad], headers=alice.headers)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "metrics[exports_7d].spec.events.window_days"
    assert len(client.get("/api/v1/metrics", headers=alice.headers).json()) == 20


def test_it_imports_yaml(client: TestClient, alice: Person) -> None:
    body = "- {key: seats, name: 契約席数, spec: {kind: seats}}\n"
    response = client.post(
        "/api/v1/metrics/import",
        content=body.encode(),
        headers={**alice.headers, "Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    assert {m["key"]: m["name"] for m in response.json()}["seats"] == "契約席数"


def test_it_refuses_to_delete_a_metric_others_use(client: TestClient, alice: Person) -> None:
    response = client.delete("/api/v1/metrics/seats", headers=alice.headers)
    assert response.status_code == 422
    assert "licence_activation" in response.json()["message"]
    assert client.delete("/api/v1/metrics/exports_30d", headers=alice.headers).status_code == 204
    assert client.get("/api/v1/metrics/exports_30d", headers=alice.headers).status_code == 404


def test_it_lets_only_admins_change_metrics(client: TestClient, bob: Person) -> None:
    assert client.put("/api/v1/metrics", json=[NEW], headers=bob.headers).status_code == 403
    assert client.delete("/api/v1/metrics/seats", headers=bob.headers).status_code == 403


def test_it_returns_an_accounts_values(
    client: TestClient, session: Session, charlie: Person
) -> None:
    acme = make_account(session)
    for day, value in ((date(2026, 11, 19), 3.0), (date(2026, 11, 20), 4.0)):
        session.add(
            MetricSnapshot(account_id=acme.id, metric_key="active_users_7d", as_of=day, value=value)
        )
    session.flush()

    latest = client.get(f"/api/v1/accounts/{acme.id}/metrics", headers=charlie.headers).json()
    series = client.get(
        f"/api/v1/accounts/{acme.id}/metrics/series",
        params={"keys": ["active_users_7d"], "since": "2026-11-20"},
        headers=charlie.headers,
    ).json()

    assert latest == [
        {
            "key": "active_users_7d",
            "name": "Active users (7 days)",
            "unit": "users",
            "as_of": "2026-11-20",
            "value": 4.0,
        }
    ]
    assert series["series"] == {"active_users_7d": [{"as_of": "2026-11-20", "value": 4.0}]}


def test_it_names_unknown_metric_keys(
    client: TestClient, session: Session, charlie: Person
) -> None:
    acme = make_account(session)
    response = client.get(
        f"/api/v1/accounts/{acme.id}/metrics/series",
        params={"keys": ["nope"]},
        headers=charlie.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "keys", "message": "unknown metric(s): nope"}
