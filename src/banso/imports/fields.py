"""The banso fields a column can be mapped to, per entity, and how each cell is read.

Besides the fields listed here every entity takes ``custom.<key>`` (a custom field),
``external_id`` (the id in the system named by --system or the profile) and
``external_id.<system>`` (an id in a named system). ``id`` is banso's own id, which makes an
exported file import back onto the records it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from banso.accounts.models import CONTACT_ROLES, LIFECYCLE_STAGES
from banso.contracts.models import CONTRACT_STATUSES
from banso.imports import values as v

ENTITY_NAMES = {
    "accounts": "account",
    "account": "account",
    "contacts": "contact",
    "contact": "contact",
    "contracts": "contract",
    "contract": "contract",
    "deals": "deal",
    "deal": "deal",
}


@dataclass(frozen=True)
class FieldSpec:
    """One importable field.

    ``kind`` says where the value goes: ``column`` (a column of the record), ``list`` (domains,
    tags), ``ref`` (another record, found per chunk: the account of a contact), ``lookup``
    (a small table read once: an owner's e-mail, a pipeline stage), ``name_part`` (first or
    last name, combined into the name), ``amount`` (money, converted with the row's currency).
    """

    name: str
    target: str
    kind: str
    parse: v.Parser
    help: str


def _f(
    name: str, parse: v.Parser, help_text: str, *, kind: str = "column", target: str = ""
) -> FieldSpec:
    return FieldSpec(name, target or name, kind, parse, help_text)


_ID = _f("id", v.integer(minimum=1), "banso id of an existing record (from an export)", kind="id")
_ACCOUNT_REFS = (
    _f("account_id", v.integer(minimum=1), "banso id of the account", kind="ref"),
    _f(
        "account_external_id",
        v.text(200),
        "the account's id in the import's system (Salesforce 'Account ID')",
        kind="ref",
    ),
    _f("account_name", v.text(300), "the account's name (matched like 名寄せ)", kind="ref"),
)
_NAME_PARTS = (
    _f("last_name", v.text(200), "family name (姓)", kind="name_part", target="name"),
    _f("first_name", v.text(200), "given name (名)", kind="name_part", target="name"),
    _f("last_name_kana", v.text(100), "family name reading", kind="name_part", target="name_kana"),
    _f("first_name_kana", v.text(100), "given name reading", kind="name_part", target="name_kana"),
)

ACCOUNT_FIELDS = (
    _ID,
    _f("name", v.text(300), "company name (required for new accounts)"),
    _f("name_kana", v.text(200), "reading in kana"),
    _f("domains", v.domain_list, "web domains, separated by ; , or new lines", kind="list"),
    _f("industry", v.text(100), "industry"),
    _f("company_size", v.company_size, "a size band (50-99) or a head count"),
    _f("segment", v.text(100), "segment"),
    _f("source", v.text(100), "how the customer came"),
    _f(
        "owner", v.text(320), "e-mail of the banso user in charge", kind="lookup", target="owner_id"
    ),
    _f("tags", v.tag_list, "tags, separated by ; , or new lines", kind="list"),
    _f("lifecycle_stage", v.choice(LIFECYCLE_STAGES), "one of " + ", ".join(LIFECYCLE_STAGES)),
)
CONTACT_FIELDS = (
    _ID,
    *_ACCOUNT_REFS,
    _f("name", v.text(200), "full name (or map last_name and first_name)"),
    _f("name_kana", v.text(200), "reading in kana"),
    *_NAME_PARTS,
    _f("email", v.text(320), "e-mail address"),
    _f("phone", v.text(50), "phone number"),
    _f("title", v.text(200), "job title"),
    _f("role", v.choice(CONTACT_ROLES), "one of " + ", ".join(CONTACT_ROLES)),
    _f("is_key_person", v.boolean, "yes/no"),
)
CONTRACT_FIELDS = (
    _ID,
    *_ACCOUNT_REFS,
    _f("plan", v.text(100), "plan name"),
    _f("mrr", v.amount_text, "monthly revenue ('¥1,234,000', '1234000円')", kind="amount"),
    _f("currency", v.text(3), "ISO currency code (JPY when empty)"),
    _f("seats", v.integer(), "number of seats"),
    _f("start_date", v.a_date, "2026-04-01, 2026/4/1 or an Excel date"),
    _f("end_date", v.a_date, "end of the current term"),
    _f("auto_renew", v.boolean, "yes/no"),
    _f("status", v.choice(CONTRACT_STATUSES), "one of " + ", ".join(CONTRACT_STATUSES)),
)
DEAL_FIELDS = (
    _ID,
    _f("title", v.text(300), "deal name"),
    *_ACCOUNT_REFS,
    _f("contact_email", v.text(320), "e-mail of a contact of banso", kind="ref"),
    _f("company_name", v.text(300), "company name of an inquiry without an account"),
    _f("source_channel", v.text(100), "inquiry channel"),
    _f("company_size", v.company_size, "a size band (50-99) or a head count"),
    _f("problem", v.long_text(), "the customer's problem"),
    _f("budget", v.amount_text, "budget", kind="amount"),
    _f("currency", v.text(3), "ISO currency code (JPY when empty)"),
    _f("expected_mrr", v.amount_text, "expected monthly revenue", kind="amount"),
    _f("story", v.long_text(), "business story (経営課題/ストーリー)"),
    _f("stage", v.text(100), "pipeline stage key or label", kind="lookup", target="stage_key"),
    _f(
        "lost_reason",
        v.text(100),
        "lost reason key or label (needed in a lost stage)",
        kind="lookup",
        target="lost_reason_key",
    ),
    _f("lost_reason_text", v.long_text(), "lost reason in words"),
    _f(
        "owner", v.text(320), "e-mail of the banso user in charge", kind="lookup", target="owner_id"
    ),
    _f("inquiry_date", v.a_date, "date of the inquiry"),
    _f("expected_close_date", v.a_date, "expected close date"),
    _f("closed_date", v.a_date, "date won or lost"),
)

FIELDS: dict[str, dict[str, FieldSpec]] = {
    "account": {f.name: f for f in ACCOUNT_FIELDS},
    "contact": {f.name: f for f in CONTACT_FIELDS},
    "contract": {f.name: f for f in CONTRACT_FIELDS},
    "deal": {f.name: f for f in DEAL_FIELDS},
}
_EXTERNAL_ID_VALUE = v.text(200)


def entity_of(name: str) -> str:
    """'accounts' or 'account' → 'account'; anything else is refused with the choices."""
    entity = ENTITY_NAMES.get(name.strip().lower())
    if entity is None:
        raise ValueError(f"unknown entity {name!r}; use accounts, contacts, contracts or deals")
    return entity


def field_spec(entity: str, name: str) -> FieldSpec | None:
    """The spec of ``name``, including the open families custom.<key> and external_id.<sys>."""
    spec = FIELDS[entity].get(name)
    if spec is not None:
        return spec
    if name == "external_id" or name.startswith("external_id."):
        system = name.partition(".")[2]
        return FieldSpec(name, system, "external_id", _EXTERNAL_ID_VALUE, "external id")
    if name.startswith("custom.") and len(name) > len("custom."):
        return FieldSpec(name, name.removeprefix("custom."), "custom", _raw, "custom field")
    return None


def _raw(value: Any) -> Any:
    """Custom fields are checked by their definition (accounts.customfields.validate_custom)."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def field_names(entity: str) -> list[str]:
    return [*FIELDS[entity], "external_id", "external_id.<system>", "custom.<key>"]
