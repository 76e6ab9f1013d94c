"""The unmatched-usage page: product users and groups without an account, linked by hand."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.events.models import UsageGroup, UsageUser
from tests.conftest import Person
from tests.factories import make_account
from tests.web.conftest import SignIn, form_token


def _link(client: object, kind: str, identity: str, account: str) -> object:
    page = client.get(f"/usage/unmatched?kind={kind}")  # type: ignore[attr-defined]
    return client.post(  # type: ignore[attr-defined]
        f"/usage/unmatched/{kind}/link",
        data={"identity": identity, "account": account, "csrf_token": form_token(page.text)},
    )


def test_it_lists_unmatched_users_with_a_suggestion_by_domain(
    signed_in: SignIn, bob: Person, session: Session
) -> None:
    sakura = make_account(session, name="株式会社さくら", domains=["sakura.co.jp"])
    session.add_all([
        UsageUser(user_id="u-1", email="hanako@sakura.co.jp", traits={}),
        UsageUser(user_id="u-2", email="taro@gmail.com", traits={}),
        UsageUser(user_id="u-3", email="x@known.jp", account_id=sakura.id, traits={}),
    ])  # fmt: skip
    session.flush()
    page = signed_in(bob).get("/usage/unmatched")
    assert page.status_code == 200
    assert "u-1" in page.text and "u-2" in page.text and "u-3" not in page.text
    assert f'value="{sakura.id}"' in page.text  # suggested for hanako, not for gmail


def test_it_links_a_user_by_id_and_a_group_by_name(
    signed_in: SignIn, bob: Person, session: Session
) -> None:
    sakura = make_account(session, name="株式会社さくら")
    session.add_all([UsageUser(user_id="u-1", traits={}), UsageGroup(group_id="g-1", traits={})])
    session.flush()
    client = signed_in(bob)
    answer = _link(client, "users", "u-1", str(sakura.id))
    assert answer.status_code == 200 and "is now linked to" in answer.text  # type: ignore[attr-defined]
    answer = _link(client, "groups", "g-1", "(株)さくら")  # the same name, written otherwise
    assert "is now linked to" in answer.text  # type: ignore[attr-defined]
    user = session.scalar(select(UsageUser).where(UsageUser.user_id == "u-1"))
    group = session.scalar(select(UsageGroup).where(UsageGroup.group_id == "g-1"))
    assert user and user.account_id == sakura.id and user.link_source == "manual"
    assert group and group.account_id == sakura.id
    assert session.scalar(select(AuditEntry).where(AuditEntry.entity == "usage_group"))


def test_it_says_what_is_wrong_and_links_nothing(
    signed_in: SignIn, bob: Person, session: Session
) -> None:
    tokyo = make_account(session, name="東京商事")
    make_account(session, name="東京商事株式会社")  # the same name key: ambiguous
    session.add(UsageUser(user_id="u-1", traits={}))
    session.flush()
    client = signed_in(bob)
    cases = {
        "99999999": "No account has the id 99999999",
        "どこにもない会社": "No account is named",
        "東京商事": "Several accounts have this name",
        "": "Enter an account id or a company name",
        "<script>alert(1)</script>": "No account is named",
    }
    for typed, message in cases.items():
        answer = _link(client, "users", "u-1", typed)
        assert message in answer.text, typed  # type: ignore[attr-defined]
        assert "<script>alert(1)</script>" not in answer.text  # type: ignore[attr-defined]
    unknown = _link(client, "users", "no-such-user", str(tokyo.id))
    assert "does not exist" in unknown.text  # type: ignore[attr-defined]
    user = session.scalar(select(UsageUser).where(UsageUser.user_id == "u-1"))
    assert user and user.account_id is None


def test_it_pages_through_many_unmatched_users(
    signed_in: SignIn, bob: Person, session: Session
) -> None:
    session.add_all([UsageUser(user_id=f"user-{n:03d}", traits={}) for n in range(60)])
    session.flush()
    client = signed_in(bob)
    first = client.get("/usage/unmatched")
    assert "user-049" in first.text and "user-050" not in first.text
    after = first.text.split("after=")[-1].split('"')[0]
    second = client.get(f"/usage/unmatched?kind=users&after={after}")
    assert "user-050" in second.text and "user-059" in second.text
    assert "user-049" not in second.text
