from __future__ import annotations

from fastapi.testclient import TestClient


def test_it_answers_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_it_sends_the_front_door_to_sign_in(client: TestClient) -> None:
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert "<form" in client.get("/").text


def test_it_keeps_pages_out_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert all(p.startswith(("/api/", "/v1/")) for p in paths), sorted(paths)


def test_it_publishes_openapi(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/accounts" in spec["paths"]
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_invalid_json_is_a_clear_422(client: TestClient, bob) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/accounts",
        content=b"{not json",
        headers={**bob.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"


def test_a_lost_save_race_is_a_409_not_a_server_error(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.orm.exc import StaleDataError

    @app.get("/api/v1/race")
    def race() -> None:
        raise StaleDataError("UPDATE statement on table 'accounts' expected to update 1 row(s)")

    with TestClient(app) as client:
        response = client.get("/api/v1/race")
    assert response.status_code == 409
    assert "reload" in response.json()["message"]
