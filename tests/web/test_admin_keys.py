"""API tokens and write keys in the web interface: each shown once, and working."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.auth.models import ApiToken
from banso.events.models import WriteKey
from banso.events.writekeys import check_write_key
from tests.conftest import Person
from tests.web.admin_forms import post_form
from tests.web.conftest import SignIn

PAGE = "/admin/keys"


def _post(client: TestClient, url: str, data: dict[str, Any]) -> Any:
    return post_form(client, url, PAGE, data)


def _secret(html: str, prefix: str) -> str:
    found = re.findall(rf'value="({prefix}[A-Za-z0-9_\-]+)"', html)
    assert len(found) == 1, found
    return found[0]


def _tokens(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApiToken)) or 0


def test_it_shows_a_new_api_token_once_and_the_token_works(
    signed_in: SignIn, client: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    admin = signed_in(alice)
    answer = _post(
        admin,
        f"{PAGE}/tokens",
        {"name": "CRM sync", "user_id": str(bob.user.id), "expires_in_days": "30"},
    )
    assert answer.status_code == 200, answer.text[:300]
    assert "location" not in answer.headers
    plain = _secret(answer.text, "banso_")
    assert "it is shown only this once" in answer.text
    assert "It acts as bob@example.com with the role CSM." in answer.text
    row = session.scalars(select(ApiToken).where(ApiToken.name == "CRM sync")).one()
    assert row.user_id == bob.user.id and row.expires_at is not None
    assert plain not in row.token_hash
    # It works for the REST API, as bob.
    listed = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {plain}"})
    assert listed.status_code == 200, listed.text
    # Never shown again.
    again = admin.get(PAGE).text
    assert plain not in again
    assert row.prefix in again and "CRM sync" in again
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "api_token", AuditEntry.entity_id == row.id)
    ).one()
    assert plain not in str(entry.after)


def test_it_revokes_a_token(
    signed_in: SignIn, client: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    admin = signed_in(alice)
    answer = _post(admin, f"{PAGE}/tokens", {"name": "Temp", "user_id": str(bob.user.id)})
    plain = _secret(answer.text, "banso_")
    row = session.scalars(select(ApiToken).where(ApiToken.name == "Temp")).one()
    assert row.expires_at is None
    revoked = _post(admin, f"{PAGE}/tokens/{row.id}/revoke", {})
    assert revoked.status_code == 303
    assert "API token “Temp” revoked." in admin.get(PAGE).text
    refused = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {plain}"})
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter a name of 1 to 200 characters."),
        ({"name": "x" * 201}, "Enter a name of 1 to 200 characters."),
        ({"user_id": "0"}, "Choose an active user for the token to act as."),
        ({"user_id": "abc"}, "Choose an active user for the token to act as."),
        ({"expires_in_days": "0"}, "Enter a number of days from 1 to 3650"),
        ({"expires_in_days": "-5"}, "Enter a number of days from 1 to 3650"),
        ({"expires_in_days": "soon"}, "Enter a number of days from 1 to 3650"),
        ({"expires_in_days": "99999"}, "Enter a number of days from 1 to 3650"),
    ],
)
def test_it_refuses_a_bad_token_and_stores_nothing(
    signed_in: SignIn, session: Session, alice: Person, fields: dict[str, str], message: str
) -> None:
    admin = signed_in(alice)
    before = _tokens(session)
    data = {"name": "Sync", "user_id": str(alice.user.id), "expires_in_days": "", **fields}
    answer = _post(admin, f"{PAGE}/tokens", data)
    assert answer.status_code == 422
    assert message in answer.text
    assert "shown only this once" not in answer.text
    assert _tokens(session) == before


def test_it_refuses_a_token_for_a_deactivated_user(
    signed_in: SignIn, session: Session, alice: Person, bob: Person
) -> None:
    bob.user.is_active = False
    session.flush()
    admin = signed_in(alice)
    before = _tokens(session)
    answer = _post(admin, f"{PAGE}/tokens", {"name": "Sync", "user_id": str(bob.user.id)})
    assert answer.status_code == 422
    assert _tokens(session) == before


def test_it_shows_a_new_write_key_once_and_the_key_works(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    answer = _post(admin, f"{PAGE}/write-keys", {"name": "web app"})
    assert answer.status_code == 200
    assert "location" not in answer.headers
    plain = _secret(answer.text, "bwk_")
    assert "Write key “web app” created" in answer.text
    known = check_write_key(session, plain)
    assert known is not None and known.name == "web app"
    assert plain not in admin.get(PAGE).text
    key = session.get(WriteKey, known.id)
    assert key is not None
    assert _post(admin, f"{PAGE}/write-keys/{key.id}/revoke", {}).status_code == 303
    assert check_write_key(session, plain) is None
    assert "Write key “web app” revoked." in admin.get(PAGE).text


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x00name"])
def test_it_refuses_a_bad_write_key_name(
    signed_in: SignIn, session: Session, alice: Person, name: str
) -> None:
    answer = _post(signed_in(alice), f"{PAGE}/write-keys", {"name": name})
    assert answer.status_code == 422
    assert "Enter a name of 1 to 100 characters" in answer.text
    assert session.scalar(select(func.count()).select_from(WriteKey)) == 0


def test_it_shows_hostile_names_escaped(signed_in: SignIn, session: Session, alice: Person) -> None:
    admin = signed_in(alice)
    hostile = "<script>alert(1)</script>"
    assert _post(admin, f"{PAGE}/write-keys", {"name": hostile}).status_code == 200
    created = _post(admin, f"{PAGE}/tokens", {"name": hostile, "user_id": str(alice.user.id)})
    assert hostile not in created.text
    page = admin.get(PAGE).text
    assert hostile not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2


def test_it_answers_404_when_revoking_an_unknown_key(signed_in: SignIn, alice: Person) -> None:
    admin = signed_in(alice)
    assert _post(admin, f"{PAGE}/tokens/987654/revoke", {}).status_code == 404
    assert _post(admin, f"{PAGE}/write-keys/987654/revoke", {}).status_code == 404
