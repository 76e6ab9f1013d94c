"""identify and group calls link product users and groups to contacts and accounts."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.externalids import set_external_ids
from banso.events.identities import Facts, apply_facts, attribution_tables, facts_of, link_user
from banso.events.models import UsageAlias, UsageGroup, UsageMembership, UsageUser
from banso.events.store import EventStore
from tests.conftest import Person
from tests.events.conftest import send
from tests.factories import make_account, make_contact


def _user(session: Session, user_id: str) -> UsageUser:
    session.expire_all()
    return session.scalars(select(UsageUser).where(UsageUser.user_id == user_id)).one()


def _group(session: Session, group_id: str) -> UsageGroup:
    session.expire_all()
    return session.scalars(select(UsageGroup).where(UsageGroup.group_id == group_id)).one()


def _identify(user: str, **traits: Any) -> dict[str, Any]:
    return {"type": "identify", "user_id": user, "traits": traits}


def test_it_links_an_identified_user_to_the_contact_with_that_email(session: Session) -> None:
    account = make_account(session, name="株式会社さくら")
    contact = make_contact(session, account, email="Hanako@Sakura.co.jp")
    apply_facts(session, facts_of([_identify("u1", email="hanako@sakura.co.jp", 名前="花子")]))
    user = _user(session, "u1")
    assert (user.contact_id, user.account_id, user.link_source) == (contact.id, account.id, "email")
    assert user.traits["名前"] == "花子"


def test_it_links_a_user_to_the_account_of_their_email_domain(session: Session) -> None:
    account = make_account(session, name="ひかり商事", domains=["hikari.jp"])
    apply_facts(session, facts_of([_identify("u2", email="new.person@hikari.jp")]))
    user = _user(session, "u2")
    assert (user.account_id, user.contact_id, user.link_source) == (account.id, None, "domain")


def test_it_never_links_by_a_free_mail_domain(session: Session) -> None:
    make_account(session, name="Gmail 好き", domains=["gmail.com"])
    apply_facts(session, facts_of([_identify("u3", email="someone@gmail.com")]))
    assert _user(session, "u3").account_id is None


def test_it_links_a_group_by_external_id_then_by_name_or_website(session: Session) -> None:
    by_id = make_account(session, name="株式会社いろは")
    set_external_ids(session, "account", by_id.id, {"segment": "tenant-1"})
    by_name = make_account(session, name="株式会社にほへ")
    by_site = make_account(session, name="Tochiri", domains=["tochiri.example"])
    rows = [
        {"type": "group", "user_id": "a", "group_id": "tenant-1", "traits": {"name": "別名"}},
        {"type": "group", "user_id": "b", "group_id": "t2", "traits": {"name": "(株)にほへ"}},
        {
            "type": "group",
            "user_id": "c",
            "group_id": "t3",
            "traits": {"website": "https://www.tochiri.example/"},
        },
        {"type": "group", "user_id": "d", "group_id": "t4", "traits": {"name": "誰も知らない"}},
    ]
    apply_facts(session, facts_of(rows))
    assert (_group(session, "tenant-1").account_id, _group(session, "tenant-1").link_source) == (
        by_id.id,
        "external_id",
    )
    assert _group(session, "t2").account_id == by_name.id
    assert _group(session, "t3").account_id == by_site.id
    assert _group(session, "t4").account_id is None
    assert _user(session, "b").account_id == by_name.id  # through the group
    assert _user(session, "b").link_source == "group"
    members = session.scalars(
        select(UsageMembership.group_id).where(UsageMembership.user_id == "a")
    )
    assert list(members) == ["tenant-1"]


def test_it_never_overwrites_a_manual_link(session: Session, bob: Person) -> None:
    chosen = make_account(session, name="選んだ会社")
    other = make_account(session, name="別の会社", domains=["other.example"])
    apply_facts(session, facts_of([_identify("u4")]))
    link_user(session, bob.actor, "u4", chosen.id)
    apply_facts(session, facts_of([_identify("u4", email="x@other.example")]))
    user = _user(session, "u4")
    assert (user.account_id, user.link_source) == (chosen.id, "manual")
    assert other.id != chosen.id


def test_it_records_aliases_of_identify_and_alias_calls(session: Session) -> None:
    rows = [
        {"type": "identify", "user_id": "u5", "anonymous_id": "anon-5", "traits": {}},
        {"type": "alias", "user_id": "u5", "previous_id": "old-5"},
    ]
    apply_facts(session, facts_of(rows))
    aliases = dict(session.execute(select(UsageAlias.alias_id, UsageAlias.user_id)).all())
    assert aliases == {"anon-5": "u5", "old-5": "u5"}


def test_it_applies_the_same_facts_twice_without_harm(session: Session) -> None:
    facts = facts_of([{"type": "group", "user_id": "u6", "group_id": "g6", "traits": {}}])
    apply_facts(session, facts)
    apply_facts(
        session, Facts(users=facts.users, groups=facts.groups, memberships=facts.memberships)
    )
    assert session.scalars(select(UsageUser).where(UsageUser.user_id == "u6")).all()


def _as_dict(table: pa.Table, key: str, value: str) -> dict[Any, Any]:
    return dict(zip(table.column(key).to_pylist(), table.column(value).to_pylist(), strict=True))


def test_it_attributes_events_after_a_late_identify(
    usage_client: TestClient, store: EventStore, write_key: str, session: Session
) -> None:
    account = make_account(session, name="株式会社おそい", domains=["osoi.example"])
    session.commit()
    early = {"batch": [{"type": "track", "anonymousId": "anon-L", "event": "Opened"}]}
    assert send(usage_client, "/v1/batch", early, write_key).status_code == 200
    users, _, aliases = attribution_tables(session)
    assert "anon-L" not in _as_dict(aliases, "alias_id", "user_id")
    late = {"userId": "late", "anonymousId": "anon-L", "traits": {"email": "x@osoi.example"}}
    assert send(usage_client, "/v1/identify", late, write_key).status_code == 200
    users, groups, aliases = attribution_tables(session)
    assert _as_dict(aliases, "alias_id", "user_id")["anon-L"] == "late"
    assert _as_dict(users, "user_id", "account_id")["late"] == account.id
    assert users.schema.field("account_id").type == pa.int64()
    assert groups.column_names == ["group_id", "account_id"]


def test_it_links_a_user_whose_id_is_a_contacts_external_id(session: Session) -> None:
    account = make_account(session, name="株式会社外部")
    contact = make_contact(session, account, email="known@gaibu.example")
    set_external_ids(session, "contact", contact.id, {"segment": "u-ext-1"})
    apply_facts(session, facts_of([_identify("u-ext-1", plan="pro")]))
    user = _user(session, "u-ext-1")
    assert (user.contact_id, user.account_id, user.link_source) == (
        contact.id,
        account.id,
        "external_id",
    )
