"""The duplicates page: candidates with reasons, merge preview, stale preview, the merge."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.accounts.overview import edit_account_field
from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from tests.conftest import Person
from tests.factories import make_account, make_contact, make_contract
from tests.web.conftest import Browse


@pytest.fixture
def browse(web_client: Browse) -> Browse:
    """A client signed in as the given person (or a visitor, for None)."""
    return lambda person: web_client(person, follow_redirects=False)


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@pytest.fixture
def pair(session: Session) -> tuple[Account, Account]:
    kept = make_account(session, name="株式会社さくら", domains=["sakura.example"])
    dup = make_account(session, name="さくら(株)", domains=["sakura.example"], industry="小売")
    make_contract(session, dup)
    make_contact(session, dup, name="田中 一郎")
    session.commit()
    return dup, kept


def test_it_lists_candidates_with_their_reasons(
    browse: Browse, bob: Person, pair: tuple[Account, Account]
) -> None:
    page = browse(bob).get("/duplicates")

    assert page.status_code == 200
    assert "株式会社さくら" in page.text and "さくら(株)" in page.text
    assert "Same web domain" in page.text or "同じドメイン" in page.text
    assert browse(bob).get("/duplicates?kind=contacts").status_code == 200
    assert browse(bob).get("/duplicates?kind=nope").status_code == 422


def test_it_previews_and_merges(
    browse: Browse, bob: Person, pair: tuple[Account, Account], session: Session
) -> None:
    dup, kept = pair
    client = browse(bob)
    preview = client.get(f"/duplicates/accounts/{dup.id}/{kept.id}")
    assert preview.status_code == 200
    versions = {"source_version": str(dup.version), "target_version": str(kept.version)}
    assert f'name="source_version" value="{dup.version}"' in preview.text

    done = client.post(
        f"/duplicates/accounts/{dup.id}/{kept.id}",
        data={**versions, "csrf_token": _token(preview.text)},
    )

    assert done.status_code == 200
    assert f'href="/customers/{kept.id}"' in done.text
    assert session.get(Account, dup.id) is None
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "merge",
            AuditEntry.entity == "account",
            AuditEntry.entity_id == dup.id,
        )
    ).all()
    assert len(audit) == 1
    assert client.get(f"/customers/{dup.id}").status_code == 410


def test_it_refuses_a_stale_preview(
    browse: Browse, bob: Person, pair: tuple[Account, Account], session: Session
) -> None:
    dup, kept = pair
    client = browse(bob)
    preview = client.get(f"/duplicates/accounts/{dup.id}/{kept.id}")
    seen = {"source_version": str(dup.version), "target_version": str(kept.version)}
    edit_account_field(session, Actor(label="alice"), kept.id, "segment", "SMB", kept.version)
    session.commit()

    answer = client.post(
        f"/duplicates/accounts/{dup.id}/{kept.id}",
        data={**seen, "csrf_token": _token(preview.text)},
    )

    assert answer.status_code == 409
    assert f'name="target_version" value="{kept.version}"' in answer.text
    assert session.get(Account, dup.id) is not None


def test_it_lets_no_viewer_merge(
    browse: Browse, bob: Person, charlie: Person, pair: tuple[Account, Account], session: Session
) -> None:
    dup, kept = pair
    token = _token(browse(bob).get(f"/duplicates/accounts/{dup.id}/{kept.id}").text)
    client = browse(charlie)
    preview = client.get(f"/duplicates/accounts/{dup.id}/{kept.id}")
    assert preview.status_code == 200 and "source_version" not in preview.text

    answer = client.post(
        f"/duplicates/accounts/{dup.id}/{kept.id}",
        data={"source_version": str(dup.version), "target_version": "1", "csrf_token": token},
    )

    assert answer.status_code == 403
    assert session.get(Account, dup.id) is not None


def test_it_refuses_merging_a_record_into_itself(
    browse: Browse, bob: Person, pair: tuple[Account, Account]
) -> None:
    dup, _ = pair
    assert browse(bob).get(f"/duplicates/accounts/{dup.id}/{dup.id}").status_code == 422
