from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.documents.models import Revision
from banso.documents.service import EditConflict, history
from banso.errors import InvalidInput
from banso.observations.models import ObservationSession
from banso.observations.schemas import SessionEdit
from banso.observations.service import update_session
from banso.search.documents import search
from tests.conftest import Person, make_person
from tests.factories import make_account, make_contact
from tests.observations.factories import make_session

JST = timezone(timedelta(hours=9))


def edit(observation: ObservationSession, **fields: Any) -> SessionEdit:
    """The session's details as stored, with ``fields`` changed."""
    data = {
        "title": observation.title,
        "held_at": observation.held_at,
        "customer_role": observation.customer_role,
        "contact_id": observation.contact_id,
        "observer_id": observation.observer_id,
        "recording_url": observation.recording_url,
        "version": observation.version,
        **fields,
    }
    return SessionEdit(**data)


def written(session: Session, observation: ObservationSession) -> tuple[int, int]:
    """How many revisions and audit entries the session has."""
    revisions = session.scalar(
        select(func.count()).select_from(Revision).where(
            Revision.entity == "observation_session", Revision.entity_id == observation.id
        )
    )  # fmt: skip
    audits = session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "observation_session", AuditEntry.entity_id == observation.id
        )
    )  # fmt: skip
    return int(revisions or 0), int(audits or 0)


def test_it_saves_the_details_with_a_revision_audit_and_search_entry(
    session: Session, alice: Person, bob: Person
) -> None:
    account = make_account(session)
    contact = make_contact(session, account, name="経理 花子")
    observation = make_session(session, alice.actor, account, observer_id=alice.user.id)

    changed = update_session(
        session, bob.actor, observation,
        edit(observation, title="請求書発行の観察", held_at=datetime(2025, 6, 3, 10, 0, tzinfo=JST),
             customer_role="営業事務（二回目）", contact_id=contact.id, observer_id=bob.user.id,
             recording_url="https://video.example.com/rec/2"),
    )  # fmt: skip

    assert changed and observation.version == 2
    session.expire_all()
    stored = session.get(ObservationSession, observation.id)
    assert stored is not None
    assert (stored.title, stored.customer_role, stored.contact_id, stored.observer_id) == (
        "請求書発行の観察", "営業事務（二回目）", contact.id, bob.user.id,
    )  # fmt: skip
    assert stored.held_at == datetime(2025, 6, 3, 1, 0, tzinfo=UTC)
    assert stored.recording_url == "https://video.example.com/rec/2"
    latest = history(session, "observation_session", observation.id)[0]
    assert latest.version == 2 and latest.fields["title"] == "請求書発行の観察"
    assert "keep" not in latest.fields  # only what changed
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.entity == "observation_session",
                                 AuditEntry.action == "update")
    )  # fmt: skip
    assert entry is not None and entry.entity_id == observation.id
    hits = search(session, "請求書発行", kinds=("observation",)).hits
    assert [(h.ref_id, h.author_id) for h in hits] == [(observation.id, bob.user.id)]
    assert search(session, "CSV取込", kinds=("observation",)).hits == []


def test_it_writes_nothing_when_nothing_changed(session: Session, alice: Person) -> None:
    observation = make_session(session, alice.actor, make_account(session))
    before = written(session, observation)
    same_moment_in_jst = observation.held_at.astimezone(JST)

    assert not update_session(session, alice.actor, observation,
                              edit(observation, held_at=same_moment_in_jst))  # fmt: skip

    assert observation.version == 1 and written(session, observation) == before


def test_it_clears_the_optional_details(session: Session, alice: Person) -> None:
    account = make_account(session)
    contact = make_contact(session, account)
    observation = make_session(session, alice.actor, account, contact_id=contact.id,
                               observer_id=alice.user.id)  # fmt: skip

    update_session(session, alice.actor, observation,
                   edit(observation, contact_id="", observer_id="", recording_url=" "))  # fmt: skip

    assert (observation.contact_id, observation.observer_id, observation.recording_url) == (
        None, None, None,
    )  # fmt: skip


@pytest.mark.parametrize("whose", ["unknown", "another account's"])
def test_it_refuses_a_contact_not_of_the_sessions_account(
    session: Session, alice: Person, whose: str
) -> None:
    account = make_account(session)
    observation = make_session(session, alice.actor, account)
    before = written(session, observation)
    stranger = make_contact(session, make_account(session, name="別会社"))
    contact_id = 999_999 if whose == "unknown" else stranger.id

    with pytest.raises(InvalidInput) as caught:
        update_session(session, alice.actor, observation, edit(observation, contact_id=contact_id))

    assert [e.field for e in caught.value.errors] == ["contact_id"]
    expected = (
        "does not exist" if whose == "unknown" else f"belongs to account {stranger.account_id}"
    )
    assert expected in caught.value.errors[0].message
    assert observation.contact_id is None and observation.version == 1
    assert written(session, observation) == before


def test_it_refuses_an_unknown_or_inactive_observer(session: Session, alice: Person) -> None:
    observation = make_session(session, alice.actor, make_account(session),
                               observer_id=alice.user.id)  # fmt: skip
    gone = make_person(session, "gone@example.com", "csm")
    gone.user.is_active = False
    session.flush()
    before = written(session, observation)

    for observer_id in (999_999, gone.user.id):
        with pytest.raises(InvalidInput) as caught:
            update_session(session, alice.actor, observation,
                           edit(observation, observer_id=observer_id))  # fmt: skip
        assert [e.field for e in caught.value.errors] == ["observer_id"]

    assert observation.observer_id == alice.user.id and observation.version == 1
    assert written(session, observation) == before


def test_it_keeps_an_observer_who_has_left_when_other_details_change(
    session: Session, alice: Person
) -> None:
    gone = make_person(session, "gone@example.com", "csm")
    observation = make_session(session, alice.actor, make_account(session),
                               observer_id=gone.user.id)  # fmt: skip
    gone.user.is_active = False
    session.flush()

    assert update_session(
        session, alice.actor, observation, edit(observation, title="題名だけ変更")
    )

    assert observation.title == "題名だけ変更" and observation.observer_id == gone.user.id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"recording_url": "javascript:alert(1)"}, "recording_url"),
        ({"recording_url": "JaVaScRiPt://x"}, "recording_url"),
        ({"recording_url": "ftp://files.example.com/a"}, "recording_url"),
        ({"title": ""}, "title"),
        ({"title": "長" * 301}, "title"),
        ({"customer_role": " "}, "customer_role"),
        ({"customer_role": "x" * 201}, "customer_role"),
        ({"customer_role": "経理\x00担当"}, "customer_role"),
        ({"held_at": datetime(2025, 6, 2, 14, 30)}, "held_at"),
        ({"held_at": "いつか"}, "held_at"),
        ({"held_at": "2025-13-40T25:00"}, "held_at"),
        ({"contact_id": "0"}, "contact_id"),
        ({"observer_id": "誰か"}, "observer_id"),
        ({"version": 0}, "version"),
        ({"version": "zero"}, "version"),
    ],
)
def test_it_refuses_bad_details(fields: dict[str, object], field: str) -> None:
    data = {"title": "観察", "held_at": datetime(2025, 6, 2, 5, 0, tzinfo=UTC),
            "customer_role": "経理担当", "version": 1, **fields}  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        SessionEdit(**data)  # type: ignore[arg-type]
    assert caught.value.errors()[0]["loc"][0] == field


def test_it_refuses_to_move_a_session_to_another_account() -> None:
    with pytest.raises(ValidationError) as caught:
        SessionEdit(title="観察", held_at=datetime(2025, 6, 2, tzinfo=UTC),  # type: ignore[call-arg]
                    customer_role="経理担当", version=1, account_id=2)  # fmt: skip
    assert caught.value.errors()[0]["loc"][0] == "account_id"


def test_it_raises_a_conflict_on_a_stale_version_and_writes_nothing(
    session: Session, alice: Person, bob: Person
) -> None:
    observation = make_session(session, alice.actor, make_account(session))
    opened = edit(observation)  # bob opens the form at version 1
    alices = edit(observation, title="アリスの題名", customer_role="経理担当\n上長同席")
    update_session(session, alice.actor, observation, alices)
    before = written(session, observation)

    bobs = opened.model_copy(
        update={"customer_role": "経理担当（初めて使う）\nボブ追記",
                "recording_url": "https://video.example.com/b"}
    )  # fmt: skip
    with pytest.raises(EditConflict) as caught:
        update_session(session, bob.actor, observation, bobs)

    conflict = caught.value
    assert conflict.current_version == 2 and conflict.changed_by == "alice"
    merges = {f.name: f for f in conflict.fields}
    assert set(merges) == {"title", "customer_role"}
    assert merges["title"].clean and merges["title"].merged == "アリスの題名"
    assert not merges["customer_role"].clean
    assert (
        "上長同席" in merges["customer_role"].merged
        and "ボブ追記" in merges["customer_role"].merged
    )
    assert written(session, observation) == before
    session.expire_all()
    stored = session.get(ObservationSession, observation.id)
    assert stored is not None and stored.version == 2
    assert stored.recording_url == "https://video.example.com/rec/1"
    assert stored.customer_role == "経理担当\n上長同席"
