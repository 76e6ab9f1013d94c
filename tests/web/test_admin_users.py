"""Managing users in the web interface: create, change, deactivate, reset a password."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.audit.service import CLI
from banso.auth.models import User
from banso.auth.service import UserPatch, set_user_active, update_user
from banso.errors import InvalidInput
from banso.web.models import WebSession
from tests.conftest import Person, make_person
from tests.web.admin_forms import post_form
from tests.web.conftest import PASSWORD, SignIn, form_token

NEW_PASSWORD = "a brand new passphrase"


def _new_user(client: TestClient, **fields: str) -> Any:
    data = {
        "email": "dana@example.com",
        "name": "Dana",
        "role": "csm",
        "locale": "en",
        "password": "dana's long password",
        **fields,
    }
    return post_form(client, "/admin/users", "/admin/users/new", data)


def _users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def _sessions_of(session: Session, user: User) -> int:
    stmt = select(func.count()).select_from(WebSession).where(WebSession.user_id == user.id)
    return session.scalar(stmt) or 0


def _sign_in(app_client: TestClient, email: str, password: str) -> int:
    token = form_token(app_client.get("/login").text)
    answer = app_client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return answer.status_code


def test_it_creates_a_user_who_can_then_sign_in(
    signed_in: SignIn, anonymous: TestClient, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    created = _new_user(admin)
    assert created.status_code == 303, created.text
    dana = session.scalars(select(User).where(User.email == "dana@example.com")).one()
    assert (dana.name, dana.role, dana.locale, dana.is_active) == ("Dana", "csm", "en", True)
    assert dana.password_hash and "dana's long password" not in dana.password_hash
    assert created.headers["location"] == f"/admin/users/{dana.id}"
    page = admin.get(created.headers["location"])
    assert "User dana@example.com created." in page.text
    assert _sign_in(anonymous, "dana@example.com", "dana's long password") == 303
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == dana.id)
    ).one()
    assert entry.actor == "alice@example.com via web"
    assert "password" not in str(entry.after)


def test_it_lists_users_with_role_language_status_and_last_sign_in(
    signed_in: SignIn, alice: Person, bob: Person, charlie: Person
) -> None:
    signed_in(bob)  # bob has signed in once
    page = signed_in(alice).get("/admin/users").text
    for text in [
        "alice@example.com",
        "bob@example.com",
        "charlie@example.com",
        "Viewer",
        "CSM",
        "Active",
    ]:
        assert text in page
    bob_row = page.split("bob@example.com", 1)[1].split("</tr>", 1)[0]
    assert "—" not in bob_row.rsplit("<td>", 1)[1], "bob's last sign-in is shown"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "bob@example.com"}, "A user with this e-mail address already exists."),
        ({"email": "BOB@example.com"}, "A user with this e-mail address already exists."),
        ({"email": "not an address"}, "Enter a valid e-mail address."),
        ({"password": "short"}, "The password must be 10 to 256 characters long."),
        ({"password": ""}, "The password must be 10 to 256 characters long."),
        ({"role": "superuser"}, "Choose one of the roles."),
        ({"role": ""}, "Choose one of the roles."),
        ({"name": "   "}, "Enter a name of 1 to 300 characters."),
        ({"name": "x" * 301}, "Enter a name of 1 to 300 characters."),
        ({"locale": "fr"}, "Choose Japanese or English."),
        ({"name": "bad\x00name"}, "Enter a name of 1 to 300 characters."),
    ],
)
def test_it_refuses_bad_input_for_a_new_user_and_stores_nothing(
    signed_in: SignIn,
    session: Session,
    alice: Person,
    bob: Person,
    fields: dict[str, str],
    message: str,
) -> None:
    admin = signed_in(alice)
    before = _users(session)
    answer = _new_user(admin, **fields)
    assert answer.status_code == 422, answer.text[:300]
    assert message in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert _users(session) == before
    if "email" not in fields:
        assert 'value="dana@example.com"' in answer.text, "what was typed is kept"
    assert "dana&#39;s long password" not in answer.text, "a password is never echoed"


def test_it_shows_hostile_text_escaped(signed_in: SignIn, session: Session, alice: Person) -> None:
    admin = signed_in(alice)
    hostile = "<script>alert(1)</script>"
    refused = _new_user(admin, name=hostile, password="short")
    assert refused.status_code == 422
    assert hostile not in refused.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    created = _new_user(admin, name=hostile)
    assert created.status_code == 303
    pages = ["/admin/users", created.headers["location"], "/admin/audit"]
    for url in [*pages, created.headers["location"] + "/deactivate"]:
        page = admin.get(url).text
        assert hostile not in page, url
        assert "&lt;script&gt;" in page, url


def test_it_changes_a_role_and_signs_the_user_out(
    signed_in: SignIn, session: Session, alice: Person, bob: Person
) -> None:
    bobs_browser = signed_in(bob)
    assert _sessions_of(session, bob.user) == 1
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    answer = post_form(
        admin,
        page,
        page,
        {"name": "Bob B.", "role": "manager", "locale": "ja", "version": bob.user.version},
    )
    assert answer.status_code == 303, answer.text[:300]
    session.refresh(bob.user)
    assert (bob.user.name, bob.user.role, bob.user.locale) == ("Bob B.", "manager", "ja")
    assert _sessions_of(session, bob.user) == 0
    assert bobs_browser.get("/customers", follow_redirects=False).status_code == 303
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.action == "update")
    ).one()
    assert (entry.before["role"], entry.after["role"]) == ("csm", "manager")


def test_it_keeps_sessions_when_only_the_name_changes(
    signed_in: SignIn, session: Session, alice: Person, bob: Person
) -> None:
    signed_in(bob)
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    answer = post_form(
        admin,
        page,
        page,
        {"name": "Robert", "role": "csm", "locale": "", "version": bob.user.version},
    )
    assert answer.status_code == 303
    assert _sessions_of(session, bob.user) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "root"}, "Choose one of the roles."),
        ({"name": ""}, "Enter a name of 1 to 300 characters."),
        ({"locale": "de"}, "Choose Japanese or English."),
    ],
)
def test_it_refuses_a_bad_change_to_a_user(
    signed_in: SignIn,
    session: Session,
    alice: Person,
    bob: Person,
    fields: dict[str, str],
    message: str,
) -> None:
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    data = {"name": "Bob", "role": "csm", "locale": "en", "version": bob.user.version, **fields}
    answer = post_form(admin, page, page, data)
    assert answer.status_code == 422
    assert message in answer.text
    session.refresh(bob.user)
    assert (bob.user.name, bob.user.role) == ("bob", "csm")


def test_it_says_when_someone_else_changed_the_user_first(
    signed_in: SignIn, session: Session, alice: Person, bob: Person
) -> None:
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    stale = bob.user.version
    bob.user.name = "Changed meanwhile"
    session.flush()
    answer = post_form(
        admin, page, page, {"name": "Mine", "role": "viewer", "locale": "en", "version": stale}
    )
    assert answer.status_code == 409
    assert "Someone else changed this user while you were editing." in answer.text
    assert "Changed meanwhile" in answer.text
    session.refresh(bob.user)
    assert (bob.user.name, bob.user.role) == ("Changed meanwhile", "csm")


def test_it_does_not_let_an_admin_demote_or_deactivate_themself(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    make_person(session, "zoe@example.com", "admin")  # another admin exists
    admin = signed_in(alice)
    page = f"/admin/users/{alice.user.id}"
    demoted = post_form(
        admin,
        page,
        page,
        {"name": "alice", "role": "csm", "locale": "", "version": alice.user.version},
    )
    assert demoted.status_code == 422
    assert "You cannot change your own role. Ask another admin to change it." in demoted.text
    confirm = admin.get(f"{page}/deactivate")
    assert "You cannot deactivate yourself." in confirm.text
    assert 'action="/admin/users/' not in confirm.text.split("<main", 1)[1]
    deactivated = post_form(admin, f"{page}/deactivate", page, {"version": alice.user.version})
    assert deactivated.status_code == 422
    assert "You cannot deactivate yourself. Ask another admin to do it." in deactivated.text
    session.refresh(alice.user)
    assert (alice.user.role, alice.user.is_active) == ("admin", True)


def test_it_lets_an_admin_reactivate_and_demote_another_admin(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    zoe = make_person(session, "zoe@example.com", "admin")
    zoe.user.is_active = False
    session.flush()
    admin = signed_in(alice)
    page = f"/admin/users/{zoe.user.id}"
    reactivated = post_form(admin, f"{page}/reactivate", page, {"version": zoe.user.version})
    assert reactivated.status_code == 303
    session.refresh(zoe.user)
    answer = post_form(
        admin,
        page,
        page,
        {"name": "zoe", "role": "viewer", "locale": "", "version": zoe.user.version},
    )
    assert answer.status_code == 303
    session.refresh(zoe.user)
    assert (zoe.user.role, zoe.user.is_active) == ("viewer", True)


def test_it_keeps_the_last_active_admin_whoever_asks(session: Session, alice: Person) -> None:
    with pytest.raises(InvalidInput, match="only active admin"):
        update_user(session, CLI, alice.user.id, UserPatch(role="csm", version=alice.user.version))
    with pytest.raises(InvalidInput, match="only active admin"):
        set_user_active(session, CLI, alice.user.id, False, alice.user.version)
    session.refresh(alice.user)
    assert (alice.user.role, alice.user.is_active) == ("admin", True)


def test_it_deactivates_after_confirmation_and_reactivates(
    signed_in: SignIn, anonymous: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    bobs_browser = signed_in(bob)
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    assert f'href="{page}/deactivate"' in admin.get(page).text
    confirm = admin.get(f"{page}/deactivate")
    assert "loses the use of 1 API token" in confirm.text
    confirm_page = f"{page}/deactivate"
    answer = post_form(admin, confirm_page, confirm_page, {"version": bob.user.version})
    assert answer.status_code == 303
    session.refresh(bob.user)
    assert bob.user.is_active is False
    assert _sessions_of(session, bob.user) == 0
    assert bobs_browser.get("/customers", follow_redirects=False).status_code == 303
    assert _sign_in(anonymous, "bob@example.com", PASSWORD) == 401
    assert "bob@example.com was deactivated" in admin.get(answer.headers["location"]).text
    reactivated = post_form(admin, f"{page}/reactivate", page, {"version": bob.user.version})
    assert reactivated.status_code == 303
    session.refresh(bob.user)
    assert bob.user.is_active is True
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "user", AuditEntry.entity_id == bob.user.id)
        .order_by(AuditEntry.id)
    ).all()
    assert actions[-2:] == ["deactivate", "reactivate"]


def test_it_refuses_a_stale_deactivation(
    signed_in: SignIn, session: Session, alice: Person, bob: Person
) -> None:
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    answer = post_form(admin, f"{page}/deactivate", page, {"version": bob.user.version + 5})
    assert answer.status_code == 409
    assert "Someone else changed this user" in answer.text
    session.refresh(bob.user)
    assert bob.user.is_active is True


def test_it_sets_a_new_password_and_signs_the_user_out(
    signed_in: SignIn, anonymous: TestClient, session: Session, alice: Person, bob: Person
) -> None:
    signed_in(bob)
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    data = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "version": bob.user.version}
    answer = post_form(admin, f"{page}/password", page, data)
    assert answer.status_code == 303, answer.text[:300]
    assert _sessions_of(session, bob.user) == 0
    assert _sign_in(anonymous, "bob@example.com", PASSWORD) == 401
    assert _sign_in(anonymous, "bob@example.com", NEW_PASSWORD) == 303
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "set_password")).one()
    assert NEW_PASSWORD not in str(entry.after) and "argon2" not in str(entry.after)


def test_it_keeps_an_admin_signed_in_after_changing_their_own_password(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    signed_in(alice)  # a second browser
    assert _sessions_of(session, alice.user) == 2
    page = f"/admin/users/{alice.user.id}"
    data = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "version": alice.user.version}
    answer = post_form(admin, f"{page}/password", page, data)
    assert answer.status_code == 303
    assert _sessions_of(session, alice.user) == 1
    assert admin.get("/admin/users").status_code == 200


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("short", "short", "The password must be 10 to 256 characters long."),
        ("x" * 257, "x" * 257, "The password must be 10 to 256 characters long."),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "The two passwords differ"),
    ],
)
def test_it_refuses_a_bad_new_password(
    signed_in: SignIn,
    session: Session,
    alice: Person,
    bob: Person,
    password: str,
    again: str,
    message: str,
) -> None:
    admin = signed_in(alice)
    page = f"/admin/users/{bob.user.id}"
    old_hash = bob.user.password_hash
    data = {"password": password, "password_again": again, "version": bob.user.version}
    answer = post_form(admin, f"{page}/password", page, data)
    assert answer.status_code == 422
    assert message in answer.text
    session.refresh(bob.user)
    assert bob.user.password_hash == old_hash


def test_it_answers_404_for_an_unknown_user(signed_in: SignIn, alice: Person) -> None:
    admin = signed_in(alice)
    assert admin.get("/admin/users/999999").status_code == 404
    assert admin.get("/admin/users/99999999999").status_code == 404
