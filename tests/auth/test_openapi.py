"""The OpenAPI document lists the account endpoints and how to authenticate."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_it_publishes_the_account_endpoints_with_the_bearer_scheme(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/accounts"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/accounts/{account_id}"])
    assert {"get", "post"} <= set(paths["/api/v1/contacts"])
    assert {"get", "post"} <= set(paths["/api/v1/custom-fields"])
    schemes = spec["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if s == {**s, "type": "http", "scheme": "bearer"}]
    assert bearer, schemes
    for method in ("get", "post"):
        security = paths["/api/v1/accounts"][method]["security"]
        assert {bearer[0]: []} in security
    listed = {p["name"] for p in paths["/api/v1/accounts"]["get"]["parameters"]}
    assert {"q", "segment", "sort", "cursor", "limit", "mrr_min", "updated_since"} <= listed
    assert "AccountOut" in spec["components"]["schemas"]
