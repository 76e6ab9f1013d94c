"""The admin pages: who may open them, and that each one renders for an admin."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition
from tests.conftest import Person, make_person
from tests.web.conftest import SignIn

ADMIN_ONLY = [
    "/admin/users",
    "/admin/users/new",
    "/admin/custom-fields",
    "/admin/taxonomies",
    "/admin/keys",
]
FOR_MANAGERS = ["/admin", "/admin/audit"]


@pytest.fixture
def manager(session: Session) -> Person:
    return make_person(session, "mia@example.com", "manager")


def test_it_renders_every_admin_page_for_an_admin(
    signed_in: SignIn, session: Session, alice: Person, bob: Person
) -> None:
    field = create_definition(
        session,
        alice.actor,
        CustomFieldIn(
            key="plan",
            type="single_choice",
            label_ja="プラン",
            label_en="Plan",
            choices=["Gold", "Silver"],
        ),
    )
    admin = signed_in(alice)
    pages = [
        *FOR_MANAGERS,
        *ADMIN_ONLY,
        f"/admin/users/{bob.user.id}",
        f"/admin/users/{bob.user.id}/deactivate",
        f"/admin/custom-fields/{field.id}",
        f"/admin/custom-fields/{field.id}/delete",
        "/admin/taxonomies/stages/proposal",
        "/admin/taxonomies/stages/proposal/delete",
        "/admin/taxonomies/reasons/price",
        "/admin/taxonomies/reasons/price/delete",
    ]
    for url in pages:
        page = admin.get(url)
        assert page.status_code == 200, (url, page.text[:500])
        assert "<h1>" in page.text or "<h1 " in page.text, url
        assert 'aria-current="page"' in page.text, url


def test_it_links_admins_to_every_section_and_managers_to_the_audit_log(
    signed_in: SignIn, alice: Person, manager: Person
) -> None:
    admin_index = signed_in(alice).get("/admin").text
    for section in [
        "/admin/users",
        "/admin/custom-fields",
        "/admin/taxonomies",
        "/admin/keys",
        "/admin/audit",
    ]:
        assert f'href="{section}"' in admin_index
    manager_index = signed_in(manager).get("/admin").text
    assert 'href="/admin/audit"' in manager_index
    assert 'href="/admin/users"' not in manager_index
    assert 'href="/admin/keys"' not in manager_index


def test_it_lets_a_manager_read_the_audit_log_and_nothing_else(
    signed_in: SignIn, manager: Person
) -> None:
    client = signed_in(manager)
    for url in FOR_MANAGERS:
        assert client.get(url).status_code == 200, url
    for url in ADMIN_ONLY:
        page = client.get(url, follow_redirects=False)
        assert page.status_code == 403, url
        assert "You may not do this" in page.text


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_it_refuses_every_admin_page_to_a_csm_and_a_viewer(
    signed_in: SignIn, who: str, request: pytest.FixtureRequest
) -> None:
    person: Person = request.getfixturevalue(who)
    client = signed_in(person)
    for url in [*FOR_MANAGERS, *ADMIN_ONLY]:
        assert client.get(url, follow_redirects=False).status_code == 403, (who, url)


def test_it_sends_a_visitor_to_sign_in(anonymous: TestClient) -> None:
    for url in [*FOR_MANAGERS, *ADMIN_ONLY]:
        page = anonymous.get(url, follow_redirects=False)
        assert page.status_code == 303, url
        assert page.headers["location"].startswith("/login?next=/admin"), url


def test_it_shows_administration_in_the_menu_only_to_admins_and_managers(
    signed_in: SignIn, alice: Person, bob: Person, manager: Person
) -> None:
    assert 'href="/admin"' in signed_in(alice).get("/customers").text
    assert 'href="/admin"' in signed_in(manager).get("/customers").text
    assert 'href="/admin"' not in signed_in(bob).get("/customers").text
