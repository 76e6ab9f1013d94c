from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Person


def test_it_creates_and_reads_an_account(client: TestClient, bob: Person) -> None:
    body = {
        "name": "株式会社ＡＢＣ商事",
        "name_kana": "エービーシーショウジ",
        "domains": ["https://www.abc-shoji.co.jp/about"],
        "segment": "Enterprise",
        "tags": ["重要", "VIP"],
        "external_ids": {"salesforce": "001XYZ"},
    }
    created = client.post("/api/v1/accounts", json=body, headers=bob.headers)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["domains"] == ["abc-shoji.co.jp"]
    got = client.get(f"/api/v1/accounts/{account['id']}", headers=bob.headers).json()
    assert got["name"] == "株式会社ＡＢＣ商事"
    assert got["external_ids"] == {"salesforce": "001XYZ"}
    assert sorted(got["tags"]) == ["VIP", "重要"]


def test_it_rejects_a_stale_version(client: TestClient, bob: Person) -> None:
    account = client.post("/api/v1/accounts", json={"name": "古い版"}, headers=bob.headers).json()
    url = f"/api/v1/accounts/{account['id']}"
    first = client.patch(
        url, json={"version": account["version"], "segment": "SMB"}, headers=bob.headers
    )
    assert first.status_code == 200, first.text
    second = client.patch(
        url, json={"version": account["version"], "segment": "Mid"}, headers=bob.headers
    )
    assert second.status_code == 409
    assert second.json()["current"]["segment"] == "SMB"


def test_viewer_cannot_write(client: TestClient, charlie: Person) -> None:
    response = client.post("/api/v1/accounts", json={"name": "x"}, headers=charlie.headers)
    assert response.status_code == 403


def test_it_names_bad_fields(client: TestClient, bob: Person) -> None:
    response = client.post(
        "/api/v1/accounts",
        json={"name": "", "company_size": "huge", "domains": ["not a domain"]},
        headers=bob.headers,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"name", "company_size", "domains.0"} <= fields
