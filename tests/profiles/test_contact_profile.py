"""The people layer: one profile per key contact of the customer."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.documents.service import EditConflict
from banso.errors import NotFound
from banso.profiles.schemas import ContactProfilePatch
from banso.profiles.service import account_profile, update_contact_profile
from tests.factories import make_account, make_contact


def test_it_lists_key_people_and_saves_what_we_know(session: Session, actor: Actor) -> None:
    account = make_account(session)
    key = make_contact(session, account, name="高橋 部長", is_key_person=True)
    make_contact(session, account, name="一般 社員")
    assert [p.contact.id for p in account_profile(session, account.id).people] == [key.id]
    patch = ContactProfilePatch(
        version=0, it_literacy=2, strengths="現場の信頼が厚い", motivation="残業を減らしたい"
    )
    profile = update_contact_profile(session, actor, account.id, key.id, patch)
    assert (profile.it_literacy, profile.version) == (2, 2)
    people = account_profile(session, account.id).people
    assert people[0].profile is profile


def test_it_offers_a_merge_on_a_stale_version(session: Session, actor: Actor) -> None:
    account = make_account(session)
    key = make_contact(session, account, is_key_person=True)
    update_contact_profile(
        session, actor, account.id, key.id, ContactProfilePatch(version=0, notes="朝が早い")
    )
    with pytest.raises(EditConflict):
        update_contact_profile(
            session, actor, account.id, key.id, ContactProfilePatch(version=0, notes="夜型")
        )


def test_it_refuses_bad_input(session: Session, actor: Actor) -> None:
    account, other = make_account(session), make_account(session, name="別会社")
    stranger = make_contact(session, other, is_key_person=True)
    with pytest.raises(NotFound):
        update_contact_profile(
            session, actor, account.id, stranger.id, ContactProfilePatch(version=0)
        )
    with pytest.raises(NotFound):
        update_contact_profile(
            session, actor, account.id, 2_000_000_000, ContactProfilePatch(version=0)
        )
    for bad in (
        {"version": 0, "it_literacy": 6},
        {"version": 0, "it_literacy": 0},
        {"version": 0, "notes": "\x00"},
        {"version": 0, "strengths": "x" * 100_001},
    ):
        with pytest.raises(ValidationError):
            ContactProfilePatch.model_validate(bad)
