"""Inline edits of one field at a time, with the version the form was rendered with."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.customfields import CustomFieldIn
from banso.accounts.overview import edit_account_field, edit_contact_field, field_value
from banso.audit.service import Actor
from banso.errors import Conflict, InvalidInput
from tests.factories import make_account, make_contact


def _seats_field(session: Session, actor: Actor) -> None:
    customfields.create_definition(
        session,
        actor,
        CustomFieldIn(key="seats_planned", type="number", label_ja="予定席数", label_en="Planned"),
    )


def test_it_changes_one_standard_field(session: Session, actor: Actor) -> None:
    account = make_account(session, segment="SMB")

    edited = edit_account_field(session, actor, account.id, "segment", " エンタープライズ ", 1)

    assert edited.segment == "エンタープライズ"
    assert edited.version == 2


def test_it_changes_a_custom_field_by_its_type(session: Session, actor: Actor) -> None:
    _seats_field(session, actor)
    account = make_account(session)

    edited = edit_account_field(session, actor, account.id, "custom.seats_planned", "120", 1)

    assert field_value(edited, "custom.seats_planned") == 120


def test_it_refuses_a_word_for_a_number_and_keeps_the_old_value(
    session: Session, actor: Actor
) -> None:
    _seats_field(session, actor)
    account = make_account(session, custom={"seats_planned": 40})

    with pytest.raises(InvalidInput) as caught:
        edit_account_field(session, actor, account.id, "custom.seats_planned", "たくさん", 1)

    assert caught.value.errors[0].field == "custom.seats_planned"
    session.refresh(account)
    assert account.custom == {"seats_planned": 40} and account.version == 1


def test_it_refuses_a_too_long_name(session: Session, actor: Actor) -> None:
    account = make_account(session)

    with pytest.raises(InvalidInput) as caught:
        edit_account_field(session, actor, account.id, "name", "株" * 301, 1)

    assert caught.value.errors[0].field == "name"
    assert account.name == "株式会社テスト"


def test_it_refuses_an_empty_name_and_unknown_fields(session: Session, actor: Actor) -> None:
    account = make_account(session)

    with pytest.raises(InvalidInput):
        edit_account_field(session, actor, account.id, "name", "  ", 1)
    with pytest.raises(InvalidInput) as caught:
        edit_account_field(session, actor, account.id, "mrr", "1", 1)
    assert "mrr" in str(caught.value)


def test_it_tells_the_second_editor_and_keeps_the_first_value(
    session: Session, actor: Actor
) -> None:
    account = make_account(session, industry="製造")
    edit_account_field(session, actor, account.id, "industry", "小売", 1)

    with pytest.raises(Conflict) as caught:
        edit_account_field(session, actor, account.id, "industry", "物流", 1)

    assert caught.value.current is not None
    assert caught.value.current["industry"] == "小売"
    assert account.industry == "小売" and account.version == 2


def test_it_splits_tags_on_japanese_commas(session: Session, actor: Actor) -> None:
    account = make_account(session)

    edited = edit_account_field(session, actor, account.id, "tags", "重要、東京, 紹介", 1)

    assert sorted(field_value(edited, "tags")) == sorted(["東京", "紹介", "重要"])


def test_it_edits_a_contact_with_the_same_lock(session: Session, actor: Actor) -> None:
    contact = make_contact(session, make_account(session))

    edited = edit_contact_field(session, actor, contact.id, "is_key_person", "on", 1)
    assert edited.is_key_person is True
    with pytest.raises(Conflict):
        edit_contact_field(session, actor, contact.id, "title", "部長", 1)
    with pytest.raises(InvalidInput):
        edit_contact_field(session, actor, contact.id, "email", "not-an-address", 2)
