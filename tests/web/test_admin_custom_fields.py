"""Custom field definitions in the web interface: list, create, edit, delete with its impact."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.customfields import CustomFieldIn, create_definition
from banso.accounts.models import CustomFieldDefinition
from banso.audit.models import AuditEntry
from tests.conftest import Person
from tests.factories import make_account, make_contact
from tests.web.admin_forms import post_form
from tests.web.conftest import SignIn

PAGE = "/admin/custom-fields"


def _create(client: TestClient, **fields: Any) -> Any:
    data = {
        "entity": "account",
        "key": "plan_type",
        "type": "single_choice",
        "label_ja": "プラン",
        "label_en": "Plan",
        "choices": "Gold\nSilver\n\nBronze\n",
        "position": "5",
        "help_text": "",
        **fields,
    }
    return post_form(client, PAGE, PAGE, data)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CustomFieldDefinition)) or 0


def _plan(session: Session, person: Person, entity: str = "account") -> CustomFieldDefinition:
    data = CustomFieldIn(
        entity=entity,
        key="plan",
        type="single_choice",  # type: ignore[arg-type]
        label_ja="プラン",
        label_en="Plan",
        choices=["Gold", "Silver"],
    )
    return create_definition(session, person.actor, data)


def test_it_creates_a_field_with_both_labels_and_choices(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    answer = _create(admin, required="1")
    assert answer.status_code == 303, answer.text[:500]
    field = session.scalars(select(CustomFieldDefinition)).one()
    assert (field.entity, field.key, field.type) == ("account", "plan_type", "single_choice")
    assert (field.label_ja, field.label_en) == ("プラン", "Plan")
    assert field.choices == ["Gold", "Silver", "Bronze"]
    assert (field.required, field.position, field.help_text) == (True, 5, None)
    page = admin.get(PAGE).text
    assert "Custom field “plan_type” created." in page
    assert "プラン" in page and "Gold, Silver, Bronze" in page
    assert (
        session.scalar(
            select(func.count()).where(
                AuditEntry.entity == "custom_field", AuditEntry.action == "create"
            )
        )
        == 1
    )


@pytest.mark.parametrize("entity", ["contact", "contract", "deal"])
def test_it_creates_fields_for_other_kinds_of_record(
    signed_in: SignIn, session: Session, alice: Person, entity: str
) -> None:
    answer = _create(signed_in(alice), entity=entity, type="text", choices="")
    assert answer.status_code == 303
    assert session.scalars(select(CustomFieldDefinition.entity)).one() == entity


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"key": "Plan Type"}, "key", "Use lower-case letters, digits and _"),
        ({"key": ""}, "key", "Use lower-case letters, digits and _"),
        ({"key": "x" * 65}, "key", "Use lower-case letters, digits and _"),
        ({"entity": "invoice"}, "entity", "Choose what the field belongs to."),
        ({"type": "colour"}, "type", "Choose a type."),
        ({"label_ja": " "}, "label_ja", "Enter a label of 1 to 100 characters."),
        ({"label_en": "x" * 101}, "label_en", "Enter a label of 1 to 100 characters."),
        ({"choices": ""}, "choices", "Choice fields need at least one choice"),
        ({"choices": "Gold\nGold"}, "choices", "Choice fields need at least one choice"),
        ({"type": "text"}, "choices", "other types take none"),
        ({"position": "-1"}, "position", "Enter a whole number from 0 to 100000."),
        ({"position": "first"}, "position", "Enter a whole number from 0 to 100000."),
    ],
)
def test_it_refuses_a_bad_field_and_stores_nothing(
    signed_in: SignIn,
    session: Session,
    alice: Person,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    answer = _create(signed_in(alice), **fields)
    assert answer.status_code == 422, answer.text[:300]
    assert message in answer.text
    assert f'id="error-{field}"' in answer.text, "the message is next to its field"
    assert _count(session) == 0
    if field != "label_ja":
        assert 'value="プラン"' in answer.text, "what was typed is kept"


def test_it_refuses_a_key_the_entity_already_has(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    _plan(session, alice)
    admin = signed_in(alice)
    answer = _create(admin, key="plan")
    assert answer.status_code == 422
    assert "This entity already has a field with this key." in answer.text
    assert _count(session) == 1
    assert _create(admin, key="plan", entity="contact").status_code == 303


def test_it_shows_hostile_labels_escaped(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    admin = signed_in(alice)
    hostile = "<script>alert(1)</script>"
    assert _create(admin, label_en=hostile, choices=f"{hostile}\nok").status_code == 303
    field = session.scalars(select(CustomFieldDefinition)).one()
    for url in [PAGE, f"{PAGE}/{field.id}", f"{PAGE}/{field.id}/delete"]:
        page = admin.get(url).text
        assert hostile not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


def test_it_edits_labels_choices_and_required(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    field = _plan(session, alice)
    admin = signed_in(alice)
    url = f"{PAGE}/{field.id}"
    assert 'value="プラン"' in admin.get(url).text
    answer = post_form(
        admin,
        url,
        url,
        {
            "label_ja": "契約プラン",
            "label_en": "Contract plan",
            "choices": "Gold\nSilver\nPlatinum",
            "required": "1",
            "position": "3",
            "help_text": "Which plan",
            "version": field.version,
        },
    )
    assert answer.status_code == 303, answer.text[:500]
    session.refresh(field)
    assert (field.label_ja, field.label_en) == ("契約プラン", "Contract plan")
    assert field.choices == ["Gold", "Silver", "Platinum"]
    assert (field.required, field.position, field.help_text) == (True, 3, "Which plan")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label_ja": ""}, "Enter a label of 1 to 100 characters."),
        ({"choices": ""}, "Choice fields need at least one choice"),
        ({"choices": "A\nA"}, "Choice fields need at least one choice"),
        ({"position": "1000001"}, "Enter a whole number from 0 to 100000."),
    ],
)
def test_it_refuses_a_bad_edit(
    signed_in: SignIn, session: Session, alice: Person, fields: dict[str, str], message: str
) -> None:
    field = _plan(session, alice)
    admin = signed_in(alice)
    url = f"{PAGE}/{field.id}"
    data = {
        "label_ja": "プラン2",
        "label_en": "Plan",
        "choices": "Gold",
        "position": "0",
        "version": field.version,
        **fields,
    }
    answer = post_form(admin, url, url, data)
    assert answer.status_code == 422
    assert message in answer.text
    session.refresh(field)
    assert (field.label_ja, field.choices, field.version) == ("プラン", ["Gold", "Silver"], 1)


def test_it_says_when_someone_else_changed_the_field_first(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    field = _plan(session, alice)
    admin = signed_in(alice)
    url = f"{PAGE}/{field.id}"
    field.label_en = "Their label"
    session.flush()
    data = {
        "label_ja": "プラン",
        "label_en": "My label",
        "choices": "Gold",
        "position": "0",
        "version": 1,
    }
    answer = post_form(admin, url, url, data)
    assert answer.status_code == 409
    assert "Someone else changed this field while you were editing." in answer.text
    assert "Their label" in answer.text and 'value="My label"' in answer.text
    assert f'name="version" value="{field.version}"' in answer.text, "saving again overrides"
    session.refresh(field)
    assert field.label_en == "Their label"


def test_it_shows_the_impact_and_deletes_only_when_confirmed(
    signed_in: SignIn, session: Session, alice: Person
) -> None:
    field = _plan(session, alice)
    for name, plan in [("A社", "Gold"), ("B社", "Silver"), ("C社", None)]:
        make_account(session, name=name, custom={"plan": plan} if plan else {})
    contact_field = _plan(session, alice, entity="contact")
    make_contact(session, make_account(session, name="D社"), name="山田", custom={"plan": "Gold"})
    admin = signed_in(alice)
    url = f"{PAGE}/{field.id}/delete"
    confirm = admin.get(url)
    assert "2 records have a value in this field." in confirm.text
    assert "1 record has a value" in admin.get(f"{PAGE}/{contact_field.id}/delete").text
    unconfirmed = post_form(admin, url, url, {})
    assert unconfirmed.status_code == 409
    assert "Nothing was deleted: confirm below." in unconfirmed.text
    assert _count(session) == 2
    deleted = post_form(admin, url, url, {"confirm": "yes"})
    assert deleted.status_code == 303
    assert _count(session) == 1
    assert "Custom field “plan” deleted." in admin.get(PAGE).text
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "custom_field", AuditEntry.action == "delete")
    ).one()
    assert entry.before is not None and entry.before["key"] == "plan"


def test_it_answers_404_for_an_unknown_field(signed_in: SignIn, alice: Person) -> None:
    admin = signed_in(alice)
    assert admin.get(f"{PAGE}/424242").status_code == 404
    assert admin.get(f"{PAGE}/424242/delete").status_code == 404
