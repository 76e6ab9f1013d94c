"""Customer understanding (M12): reading and saving an account's profile and its key people's.

A profile that was never written reads as empty (version 0). The first save creates it empty at
version 1, recorded as a revision, then saves the writer's fields on top: so two people who
both start from "nothing written yet" meet in a three-way merge whose base is empty, and the
second one loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.accounts.service import get_account
from banso.audit.service import Actor, record, snapshot
from banso.documents.service import add_revision, save_fields
from banso.errors import InvalidInput, NotFound
from banso.profiles.models import AccountProfile, ContactProfile
from banso.profiles.schemas import AccountProfilePatch, ContactProfilePatch

ACCOUNT_ENTITY = "account_profile"
CONTACT_ENTITY = "contact_profile"
ACCOUNT_FIELDS = ("industry_context", "business_goals", "rhythm", "feelings")
CONTACT_TEXT_FIELDS = ("strengths", "motivation", "notes")
DB_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class Person:
    contact: Contact
    profile: ContactProfile | None

    @property
    def version(self) -> int:
        return self.profile.version if self.profile is not None else 0


@dataclass(frozen=True)
class Profile:
    account: Account
    profile: AccountProfile | None
    people: list[Person]

    @property
    def version(self) -> int:
        return self.profile.version if self.profile is not None else 0

    @property
    def is_empty(self) -> bool:
        written = self.profile is not None and any(
            (getattr(self.profile, n) or "").strip() for n in ACCOUNT_FIELDS
        )
        return not written and all(p.profile is None for p in self.people)


def account_profile(session: Session, account_id: int) -> Profile:
    """The four layers of one customer: its profile and its key people (and anyone profiled)."""
    account = get_account(session, account_id)
    profiles = {
        p.contact_id: p
        for p in session.scalars(
            select(ContactProfile).where(ContactProfile.account_id == account.id)
        )
    }
    contacts = session.scalars(
        select(Contact)
        .where(
            Contact.account_id == account.id,
            or_(Contact.is_key_person.is_(True), Contact.id.in_(list(profiles) or [0])),
        )
        .order_by(Contact.is_key_person.desc(), Contact.name, Contact.id)
    )
    people = [Person(c, profiles.get(c.id)) for c in contacts]
    return Profile(account, session.get(AccountProfile, account.id), people)


def _created(
    session: Session, actor: Actor, entity: str, row: Any, fields: dict[str, Any], key: int
) -> None:
    session.add(row)
    session.flush()
    add_revision(session, actor, entity, key, int(row.version), fields)
    record(session, actor, "create", entity, key, None, snapshot(row))


def update_account_profile(
    session: Session, actor: Actor, account_id: int, data: AccountProfilePatch
) -> AccountProfile:
    """Save the layers sent. A stale version raises EditConflict with a merge of each."""
    account = get_account(session, account_id)
    changes = {k: getattr(data, k) for k in data.model_fields_set & set(ACCOUNT_FIELDS)}
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.one(name, "cannot be null; send an empty text to clear it")
    profile = session.get(AccountProfile, account.id)
    if profile is None:
        empty = dict.fromkeys(ACCOUNT_FIELDS, "")
        profile = AccountProfile(account_id=account.id, **empty, updated_by_id=actor.user_id)
        _created(session, actor, ACCOUNT_ENTITY, profile, empty, account.id)
    if any(getattr(profile, k) != v for k, v in changes.items()):
        changes["updated_by_id"] = actor.user_id
    save_fields(
        session, actor, ACCOUNT_ENTITY, profile, max(data.version, 1), changes,
        text_fields=ACCOUNT_FIELDS,
    )  # fmt: skip
    return profile


def _contact_of(session: Session, account_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id) if 1 <= contact_id <= DB_INT_MAX else None
    if contact is None or contact.account_id != account_id:
        raise NotFound("contact of this customer", contact_id)
    return contact


def update_contact_profile(
    session: Session, actor: Actor, account_id: int, contact_id: int, data: ContactProfilePatch
) -> ContactProfile:
    """Save what we know of one of the customer's people (IT literacy 1-5, strengths, ...)."""
    account = get_account(session, account_id)
    contact = _contact_of(session, account.id, contact_id)
    names = (*CONTACT_TEXT_FIELDS, "it_literacy")
    changes = {k: getattr(data, k) for k in data.model_fields_set & set(names)}
    for name in CONTACT_TEXT_FIELDS:
        if name in changes and changes[name] is None:
            raise InvalidInput.one(name, "cannot be null; send an empty text to clear it")
    profile = session.get(ContactProfile, contact.id)
    if profile is None:
        empty: dict[str, Any] = dict.fromkeys(CONTACT_TEXT_FIELDS, "") | {"it_literacy": None}
        profile = ContactProfile(
            contact_id=contact.id, account_id=account.id, **empty, updated_by_id=actor.user_id
        )
        _created(session, actor, CONTACT_ENTITY, profile, empty, contact.id)
    if any(getattr(profile, k) != v for k, v in changes.items()):
        changes["updated_by_id"] = actor.user_id
    save_fields(
        session, actor, CONTACT_ENTITY, profile, max(data.version, 1), changes,
        text_fields=CONTACT_TEXT_FIELDS,
    )  # fmt: skip
    return profile
