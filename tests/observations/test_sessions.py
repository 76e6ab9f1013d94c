from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.errors import InvalidInput, NotFound
from banso.observations.schemas import SessionIn
from banso.observations.service import SessionFilter, create_session, get_session, list_sessions
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.observations.factories import make_session

GOOD = {
    "title": "観察",
    "held_at": datetime(2025, 6, 2, 5, 0, tzinfo=UTC),
    "customer_role": "経理担当（初めて使う）",
}


def test_it_creates_a_session_with_an_audit_entry(session: Session, alice: Person) -> None:
    account = make_account(session)
    contact = make_contact(session, account)

    observation = make_session(session, alice.actor, account, contact_id=contact.id,
                               observer_id=alice.user.id)  # fmt: skip

    assert get_session(session, observation.id).customer_role == "経理担当（初めて使う）"
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.entity == "observation_session",
                                 AuditEntry.entity_id == observation.id)
    )  # fmt: skip
    assert entry is not None and entry.action == "create"


def test_it_refuses_unknown_accounts_contacts_and_observers(session: Session, actor: Actor) -> None:
    account = make_account(session)
    other = make_account(session, name="別会社")
    strangers_contact = make_contact(session, other)

    with pytest.raises(InvalidInput, match="account 999999 does not exist"):
        create_session(session, actor, SessionIn(account_id=999_999, **GOOD))
    with pytest.raises(InvalidInput, match="belongs to account"):
        data = SessionIn(account_id=account.id, contact_id=strangers_contact.id, **GOOD)
        create_session(session, actor, data)
    with pytest.raises(InvalidInput, match="contact 999999 does not exist"):
        create_session(session, actor, SessionIn(account_id=account.id, contact_id=999_999, **GOOD))
    with pytest.raises(InvalidInput, match="user 999999 does not exist"):
        create_session(
            session, actor, SessionIn(account_id=account.id, observer_id=999_999, **GOOD)
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"recording_url": "javascript:alert(1)"}, "recording_url"),
        ({"recording_url": "JaVaScRiPt://x"}, "recording_url"),
        ({"recording_url": "ftp://files.example.com/a"}, "recording_url"),
        ({"recording_url": "https://"}, "recording_url"),
        ({"title": ""}, "title"),
        ({"title": "長" * 301}, "title"),
        ({"customer_role": " "}, "customer_role"),
        ({"customer_role": "x" * 201}, "customer_role"),
        ({"held_at": datetime(2025, 6, 2, 5, 0)}, "held_at"),
        ({"held_at": "いつか"}, "held_at"),
    ],
)
def test_it_refuses_bad_input(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SessionIn(**{"account_id": 1, **GOOD, **fields})  # type: ignore[arg-type]
    assert caught.value.errors()[0]["loc"][0] == field


def test_it_lists_sessions_newest_first_by_account_and_observer(
    session: Session, alice: Person, bob: Person
) -> None:
    first, second = make_account(session), make_account(session, name="第二商事")
    old = make_session(session, alice.actor, first, held_at=datetime(2025, 1, 1, tzinfo=UTC),
                       observer_id=alice.user.id)  # fmt: skip
    new = make_session(session, alice.actor, first, observer_id=bob.user.id)
    other = make_session(session, alice.actor, second, observer_id=bob.user.id)

    everything = list_sessions(session, SessionFilter())
    assert [s.id for s in everything.items][-1] == old.id
    assert {s.id for s in list_sessions(session, SessionFilter(account_id=first.id)).items} == {
        old.id,
        new.id,
    }
    by_bob = list_sessions(session, SessionFilter(observer_id=bob.user.id))
    assert {s.id for s in by_bob.items} == {new.id, other.id}
    one = list_sessions(session, SessionFilter(), limit=1)
    assert one.next_cursor is not None and len(one.items) == 1


def test_it_says_an_unknown_session_does_not_exist(session: Session) -> None:
    with pytest.raises(NotFound):
        get_session(session, 999_999)
    with pytest.raises(NotFound):
        get_session(session, 2**40)
