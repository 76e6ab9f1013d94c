"""POST /api/v1/imports/{entity} and GET /api/v1/exports/{entity}.csv."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from tests.conftest import Person
from tests.factories import make_account
from tests.imports.helpers import count

CSV = (
    "Account ID,Account Name,Website,Industry\r\n"
    "001A,株式会社さくら,sakura.co.jp,IT\r\n"
    "001B,ひかり商事,hikari.jp,小売\r\n"
).encode()
BAD = CSV + b"001C,,bad domain,\r\n"


def _post(client: TestClient, person: Person, body: bytes, **form: str) -> Any:
    return client.post(
        "/api/v1/imports/accounts",
        files={"file": ("accounts.csv", body, "text/csv")},
        data=form,
        headers=person.headers,
    )


def test_it_imports_an_upload_and_reports_per_row(
    client: TestClient, session: Session, bob: Person
) -> None:
    response = _post(client, bob, CSV, preset="salesforce")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert body["written"] is True and body["file"] == "accounts.csv"
    assert [r["action"] for r in body["rows"]] == ["created", "created"]
    again = _post(client, bob, CSV, preset="salesforce").json()
    assert again["counts"]["unchanged"] == 2
    assert count(session, Account) == 2


def test_it_runs_a_dry_run_with_a_json_mapping(
    client: TestClient, session: Session, bob: Person
) -> None:
    mapping = json.dumps({"Account ID": "external_id", "Account Name": "name"})
    body = _post(client, bob, BAD, mapping=mapping, system="crm", dry_run="true").json()
    assert body["dry_run"] is True and body["written"] is False
    assert body["counts"]["created"] == 2 and body["counts"]["rejected"] == 1
    assert body["unmapped_columns"] == ["Website", "Industry"]
    assert body["rejected"][0]["errors"] == [
        {
            "field": "row 4, column 'Account Name'",
            "message": "a new account needs a name; map a column to name",
        }
    ]
    assert count(session, Account) == 0


def test_it_imports_nothing_when_a_row_is_bad_unless_told_to_skip(
    client: TestClient, session: Session, bob: Person
) -> None:
    refused = _post(client, bob, BAD, preset="salesforce")
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"] == "invalid_input"
    assert body["errors"][0]["field"] == "row 4, column 'Website' (domains)"
    assert body["report"]["written"] is False
    assert count(session, Account) == 0
    skipped = _post(client, bob, BAD, preset="salesforce", skip_bad_rows="true")
    assert skipped.status_code == 200
    assert skipped.json()["counts"]["created"] == 2
    assert count(session, Account) == 2


def test_it_refuses_bad_requests_with_reasons(
    client: TestClient, bob: Person, charlie: Person
) -> None:
    assert _post(client, charlie, CSV, preset="salesforce").status_code == 403
    unknown = _post(client, bob, CSV, mapping=json.dumps({"Nope": "name"}))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "mapping 'Nope'"
    not_json = _post(client, bob, CSV, mapping="{not json")
    assert not_json.json()["errors"][0]["field"] == "mapping"
    no_file = client.post("/api/v1/imports/accounts", data={"preset": "x"}, headers=bob.headers)
    assert no_file.status_code == 422
    wrong = client.post(
        "/api/v1/imports/planets",
        files={"file": ("a.csv", CSV, "text/csv")},
        headers=bob.headers,
    )
    assert wrong.status_code == 422
    assert "use accounts, contacts, contracts or deals" in wrong.json()["message"]


def test_it_refuses_an_upload_over_the_size_limit(
    app: FastAPI, client: TestClient, bob: Person
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"max_upload_mb": 1})
    big = b"name\r\n" + b"x" * (2 * 1024 * 1024)
    response = _post(client, bob, big)
    assert response.status_code == 413
    assert response.json() == {
        "error": "too_large",
        "message": "the upload is larger than 1 MB (BANSO_MAX_UPLOAD_MB); split the file or "
        "import it with `banso import` on the server",
    }


def test_it_streams_an_export_that_imports_back_unchanged(
    client: TestClient, session: Session, bob: Person, charlie: Person
) -> None:
    make_account(session, name="株式会社さくら", segment="SMB", external_ids={"salesforce": "001A"})
    make_account(session, name="<script>alert(1)</script>", segment="Enterprise")
    response = client.get("/api/v1/exports/accounts.csv?segment=SMB", headers=charlie.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["name"], r["external_id.salesforce"]) for r in rows] == [("株式会社さくら", "001A")]
    everything = client.get("/api/v1/exports/accounts.csv", headers=charlie.headers).content
    back = _post(client, bob, everything).json()
    assert back["counts"] == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert client.get("/api/v1/exports/accounts.csv").status_code == 401
    assert (
        client.get(
            "/api/v1/exports/accounts.csv?encoding=latin1", headers=charlie.headers
        ).status_code
        == 422
    )
