"""The account's profile: written on first save, kept with history, merged on a clash."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.documents.service import EditConflict, history
from banso.errors import NotFound
from banso.profiles.schemas import AccountProfilePatch
from banso.profiles.service import account_profile, update_account_profile
from tests.conftest import Person
from tests.factories import make_account


def test_it_reads_an_unwritten_profile_as_empty(session: Session) -> None:
    found = account_profile(session, make_account(session).id)
    assert found.profile is None and found.version == 0 and found.is_empty


def test_it_writes_the_profile_with_history(session: Session, actor: Actor) -> None:
    account = make_account(session)
    patch = AccountProfilePatch(
        version=0,
        industry_context="物流業界。2024年問題で人手不足",
        feelings="レポート作成が楽になったと好評",
    )
    profile = update_account_profile(session, actor, account.id, patch)
    assert profile.version == 2 and profile.industry_context.startswith("物流業界")
    assert profile.updated_by_id == actor.user_id
    assert [r.version for r in history(session, "account_profile", account.id)] == [2, 1]
    assert not account_profile(session, account.id).is_empty


def test_it_merges_two_first_writers(session: Session, actor: Actor, bob: Person) -> None:
    account = make_account(session)
    update_account_profile(
        session,
        bob.actor,
        account.id,
        AccountProfilePatch(version=0, business_goals="解約率を半減"),
    )
    with pytest.raises(EditConflict) as caught:
        update_account_profile(
            session, actor, account.id, AccountProfilePatch(version=0, business_goals="売上1.5倍")
        )
    (goals,) = [f for f in caught.value.fields if f.name == "business_goals"]
    assert "解約率を半減" in goals.merged and "売上1.5倍" in goals.merged
    assert account_profile(session, account.id).profile.business_goals == "解約率を半減"  # type: ignore[union-attr]


def test_it_refuses_bad_input(session: Session, actor: Actor) -> None:
    with pytest.raises(NotFound):
        update_account_profile(session, actor, 2_000_000_000, AccountProfilePatch(version=0))
    for bad in (
        {"version": 0, "feelings": "x" * 100_001},
        {"version": 0, "rhythm": "\x00"},
        {"version": -1},
        {"version": 0, "unknown": "x"},
    ):
        with pytest.raises(ValidationError):
            AccountProfilePatch.model_validate(bad)
