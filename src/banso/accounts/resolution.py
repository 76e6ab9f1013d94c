"""Identity resolution (名寄せ): which account or contact a record from another system is.

Evidence is tried strongest first: an external id, then a contact's e-mail, then the company
domain (of a website or of an e-mail address; free-mail never counts), then the normalised
company name. When a kind of evidence points to several accounts, the weaker kinds that follow
narrow those candidates down; if they cannot, the match is ambiguous: no id, the candidates
listed, so that a person decides. Everything is set-based: thousands of records resolve in a
few queries, whatever their number.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, func, select, tuple_
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Session, aliased

from banso.accounts.identity import (
    email_domain,
    is_free_mail,
    is_kana_key,
    normalize_company_name,
    normalize_domain,
    normalize_email,
    normalize_reading,
)
from banso.accounts.models import Account, AccountDomain, Contact, ExternalId
from banso.errors import FieldError, InvalidInput
from banso.listing import MAX_LIMIT, Page

# Values per IN (...) list: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters,
# so that 10,000 records need one query per kind of evidence.
_CHUNK = 10_000
# A key (name, domain, reading) shared by more accounts than this is not a sign of one company
# counted twice but a placeholder ("個人", "不明") or a provider's domain: it yields no pairs.
CROWDED = 50


@dataclass(frozen=True)
class Match:
    """A resolved record: its id and the evidence that decided (``external_id``, ``email``,
    ``domain``, ``name``; ``email+domain`` when the domain narrowed several e-mail matches).
    An ambiguous match has no id, a reason starting with ``ambiguous`` and the candidates."""

    id: int | None
    reason: str
    candidates: tuple[int, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.id is None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason, "candidates": list(self.candidates)}


@dataclass(frozen=True)
class AccountEvidence:
    """What another system knows about a company (any field may be missing)."""

    external: tuple[str, str] | None = None
    name: str | None = None
    domain: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ContactEvidence:
    """What another system knows about a person; ``account_id`` confines the e-mail match."""

    external: tuple[str, str] | None = None
    email: str | None = None
    account_id: int | None = None


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _grouped(
    session: Session, stmt: Any, key_column: Any, keys: Iterable[Any]
) -> dict[Any, set[int]]:
    """``{key: {ids}}`` for ``stmt`` (selecting key, id) restricted to ``keys``, in chunks."""
    found: dict[Any, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted({k for k in keys if _storable(k)})):
        for key, record_id in session.execute(stmt.where(key_column.in_(chunk))):
            found[key].add(record_id)
    return found


def _storable(value: str) -> bool:
    """A NUL can be in no stored value (and PostgreSQL refuses it in a query): no match."""
    return "\x00" not in value


def _external_ids(
    session: Session, entity: str, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    wanted = sorted({(s, v) for s, v in pairs if _storable(s) and _storable(v)})
    for chunk in _chunks(wanted, _CHUNK // 2):  # two parameters per pair
        stmt = select(ExternalId.system, ExternalId.value, ExternalId.entity_id).where(
            ExternalId.entity == entity, tuple_(ExternalId.system, ExternalId.value).in_(chunk)
        )
        for system, value, entity_id in session.execute(stmt):
            found[(system, value)] = entity_id
    return found


def _company_domain(evidence: AccountEvidence) -> str | None:
    """The domain that can identify the company: the website's, else the e-mail's."""
    if evidence.domain:
        try:
            domain = normalize_domain(evidence.domain)
        except ValueError:
            domain = None
        if domain and not is_free_mail(domain):
            return domain
    if evidence.email:
        return email_domain(evidence.email)
    return None


def _name_key(evidence: AccountEvidence) -> str | None:
    if evidence.name and evidence.name.strip():
        return normalize_company_name(evidence.name)
    return None


def _decide(levels: list[tuple[str, set[int]]]) -> Match | None:
    """The first kind of evidence that points somewhere wins; later kinds only narrow it."""
    candidates: set[int] | None = None
    reasons: list[str] = []
    for reason, ids in levels:
        if not ids:
            continue
        narrowed = ids if candidates is None else candidates & ids
        if not narrowed:
            continue  # this evidence contradicts the stronger one: ignore it
        candidates = narrowed
        reasons.append(reason)
        if len(candidates) == 1:
            return Match(next(iter(candidates)), "+".join(reasons))
    if candidates is None:
        return None
    return Match(None, f"ambiguous {'+'.join(reasons)}", tuple(sorted(candidates)))


def resolve_accounts_bulk(
    session: Session, records: Sequence[AccountEvidence]
) -> list[Match | None]:
    """Resolve many companies at once: one query per kind of evidence per 10,000 records."""
    by_external = _external_ids(session, "account", (r.external for r in records if r.external))
    by_email = _grouped(
        session,
        select(Contact.email_key, Contact.account_id),
        Contact.email_key,
        (normalize_email(r.email) for r in records if r.email),
    )
    by_domain = _grouped(
        session,
        select(AccountDomain.domain, AccountDomain.account_id),
        AccountDomain.domain,
        (d for r in records if (d := _company_domain(r))),
    )
    by_name = _grouped(
        session,
        select(Account.name_key, Account.id),
        Account.name_key,
        (k for r in records if (k := _name_key(r))),
    )
    results: list[Match | None] = []
    for r in records:
        if r.external and r.external in by_external:
            results.append(Match(by_external[r.external], "external_id"))
            continue
        email_key = normalize_email(r.email) if r.email else None
        domain, name_key = _company_domain(r), _name_key(r)
        levels = [
            ("email", by_email.get(email_key, set()) if email_key else set()),
            ("domain", by_domain.get(domain, set()) if domain else set()),
            ("name", by_name.get(name_key, set()) if name_key else set()),
        ]
        results.append(_decide(levels))
    return results


def _check_text(**values: str | None) -> None:
    """Refuse values that no record can hold, naming the parameter."""
    errors = [
        FieldError(name, "contains a NUL character (\\x00); remove it")
        for name, value in values.items()
        if value and not _storable(value)
    ]
    if errors:
        raise InvalidInput(errors)


def resolve_account(
    session: Session,
    *,
    external: tuple[str, str] | None = None,
    name: str | None = None,
    domain: str | None = None,
    email: str | None = None,
) -> Match | None:
    """The account these facts point to, with the reason; None when nothing matches."""
    if not (external or (name and name.strip()) or domain or email):
        raise InvalidInput.one(
            "query", "give at least one of system+external_id, name, domain or email"
        )
    _check_text(name=name, domain=domain, email=email, external_id=external and external[1])
    if domain:
        try:
            normalize_domain(domain)
        except ValueError as exc:
            raise InvalidInput.one("domain", str(exc)) from exc
    evidence = AccountEvidence(external=external, name=name, domain=domain, email=email)
    return resolve_accounts_bulk(session, [evidence])[0]


def resolve_contacts_bulk(
    session: Session, records: Sequence[ContactEvidence]
) -> list[Match | None]:
    """Resolve many people at once (product identify calls, imports): by external id, then by
    e-mail (inside ``account_id`` when the record names one)."""
    by_external = _external_ids(session, "contact", (r.external for r in records if r.external))
    rows: dict[str, list[tuple[int, int]]] = defaultdict(list)
    keys = sorted({k for r in records if r.email and _storable(k := normalize_email(r.email))})
    for chunk in _chunks(keys):
        stmt = select(Contact.email_key, Contact.id, Contact.account_id).where(
            Contact.email_key.in_(chunk)
        )
        for key, contact_id, account_id in session.execute(stmt):
            rows[key or ""].append((contact_id, account_id))
    results: list[Match | None] = []
    for r in records:
        if r.external and r.external in by_external:
            results.append(Match(by_external[r.external], "external_id"))
            continue
        found = rows.get(normalize_email(r.email), []) if r.email else []
        ids = {c for c, a in found if r.account_id is None or a == r.account_id}
        results.append(_decide([("email", ids)]))
    return results


def resolve_contact(
    session: Session,
    *,
    external: tuple[str, str] | None = None,
    email: str | None = None,
    account_id: int | None = None,
) -> Match | None:
    """The contact: by external id, else by e-mail (within ``account_id`` when given)."""
    if not (external or email):
        raise InvalidInput.one("query", "give system+external_id or email")
    _check_text(email=email, external_id=external and external[1])
    evidence = ContactEvidence(external=external, email=email, account_id=account_id)
    return resolve_contacts_bulk(session, [evidence])[0]


# ---------------------------------------------------------------- duplicates

ACCOUNT_REASONS = {  # reason → weight in the score (0–100, capped)
    "same_domain": 60,
    "same_name": 50,
    "shared_email_domain": 30,
    "same_reading": 25,
}
CONTACT_REASONS = {"same_email": 80, "same_name_in_account": 50}


@dataclass
class DuplicatePair:
    """Two records that are probably the same, with every reason found and a score."""

    first_id: int
    second_id: int
    reasons: list[str] = field(default_factory=list)
    score: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_id": self.first_id,
            "second_id": self.second_id,
            "reasons": self.reasons,
            "score": self.score,
        }


Pairs = dict[tuple[int, int], set[str]]


def _add_pairs(found: Pairs, rows: Iterable[Any], reason: str) -> None:
    for first, second in rows:
        found[(first, second)].add(reason)


def _pairs_of_groups(found: Pairs, groups: Iterable[Iterable[int]], reason: str) -> None:
    for group in groups:
        ids = sorted(set(group))
        if 2 <= len(ids) <= CROWDED:
            _add_pairs(found, ((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]), reason)


def _shared_keys(key: Any, owner: Any, *, where: Any = None) -> Select[Any]:
    """Keys held by 2 to CROWDED different owners (a GROUP BY on an indexed column)."""
    stmt = select(key).group_by(key).having(func.count(func.distinct(owner)).between(2, CROWDED))
    return stmt.where(where) if where is not None else stmt


def _self_join_pairs(
    session: Session, table: Any, key: str, owner: str, keys: Select[Any] | list[Any]
) -> Iterable[Any]:
    """(first, second) owner pairs sharing ``key``, restricted to ``keys``."""
    a, b = aliased(table), aliased(table)
    stmt = (
        select(getattr(a, owner), getattr(b, owner))
        .join(b, and_(getattr(a, key) == getattr(b, key), getattr(a, owner) < getattr(b, owner)))
        .where(getattr(a, key).in_(keys))
        .distinct()
    )
    return session.execute(stmt)


def _email_domain_sql(session: Session, column: Any) -> ColumnElement[str]:
    """The part after '@' of a stored (lower-case) e-mail, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.split_part(column, "@", 2)
    return func.substr(column, func.instr(column, "@") + 1)


def _account_name_pairs(session: Session, found: Pairs) -> None:
    shared = _shared_keys(Account.name_key, Account.id, where=Account.name_key != "")
    _add_pairs(found, _self_join_pairs(session, Account, "name_key", "id", shared), "same_name")


def _account_domain_pairs(session: Session, found: Pairs) -> None:
    stmt = _shared_keys(AccountDomain.domain, AccountDomain.account_id)
    domains = [d for d in session.scalars(stmt) if not is_free_mail(d)]
    for chunk in _chunks(domains):
        rows = _self_join_pairs(session, AccountDomain, "domain", "account_id", list(chunk))
        _add_pairs(found, rows, "same_domain")


def _contact_domain_pairs(session: Session, found: Pairs) -> None:
    domain = _email_domain_sql(session, Contact.email_key)
    held = (
        select(Contact.account_id.label("account_id"), domain.label("domain"))
        .where(Contact.email_key.like("%@%"))
        .distinct()
        .subquery()
    )
    stmt = _shared_keys(held.c.domain, held.c.account_id)
    domains = [d for d in session.scalars(stmt) if d and not is_free_mail(d)]
    x, y = aliased(held), aliased(held)
    for chunk in _chunks(domains):
        rows = session.execute(
            select(x.c.account_id, y.c.account_id)
            .join(y, and_(x.c.domain == y.c.domain, x.c.account_id < y.c.account_id))
            .where(x.c.domain.in_(list(chunk)))
            .distinct()
        )
        _add_pairs(found, rows, "shared_email_domain")


def _reading_pairs(session: Session, found: Pairs) -> None:
    """Same reading: kana readings normalised in Python (width, kana, legal forms, ｶ)), so
    grouped here in one pass; a name written in kana counts as its own reading."""
    groups: dict[str, list[int]] = defaultdict(list)
    stmt = select(Account.id, Account.name_kana, Account.name_key)
    for account_id, kana, name_key in session.execute(stmt):
        reading = normalize_reading(kana) if kana else ""
        if len(reading) >= 2:
            groups[reading].append(account_id)
        if name_key != reading and len(name_key) >= 2 and is_kana_key(name_key):
            groups[name_key].append(account_id)
    _pairs_of_groups(found, groups.values(), "same_reading")


def _encode_cursor(kind: str, pair: DuplicatePair) -> str:
    raw = json.dumps({"t": kind, "v": [pair.score, pair.first_id, pair.second_id]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: str) -> tuple[int, int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        score, first, second = data["v"]
        if data["t"] != kind or not all(type(v) is int for v in (score, first, second)):
            raise ValueError
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput.one(
            "cursor", "is not a cursor from this list; start again without a cursor"
        ) from exc
    return score, first, second


def _page(
    kind: str, found: Pairs, weights: dict[str, int], limit: int, cursor: str | None
) -> Page[DuplicatePair]:
    """Score, order (best first, then by ids) and cut one page after ``cursor``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.one("limit", f"must be between 1 and {MAX_LIMIT}")
    pairs = [
        DuplicatePair(
            a, b, sorted(r, key=lambda x: (-weights[x], x)), min(100, sum(weights[x] for x in r))
        )
        for (a, b), r in found.items()
    ]
    pairs.sort(key=lambda p: (-p.score, p.first_id, p.second_id))
    if cursor:
        score, first, second = _decode_cursor(kind, cursor)
        after = (-score, first, second)
        pairs = [p for p in pairs if (-p.score, p.first_id, p.second_id) > after]
    items = pairs[:limit]
    more = len(pairs) > limit
    return Page(items=items, next_cursor=_encode_cursor(kind, items[-1]) if more else None)


def find_duplicate_accounts(
    session: Session, limit: int = 100, cursor: str | None = None
) -> Page[DuplicatePair]:
    """Likely duplicate accounts with their reasons and a score, best first.

    Each reason is one GROUP BY on an indexed key (keys held by 2 to CROWDED accounts) and a
    self-join restricted to those keys; readings are grouped in one pass. No pairwise
    comparison of all accounts happens anywhere.
    """
    found: Pairs = defaultdict(set)
    _account_name_pairs(session, found)
    _account_domain_pairs(session, found)
    _contact_domain_pairs(session, found)
    _reading_pairs(session, found)
    return _page("accounts", found, ACCOUNT_REASONS, limit, cursor)


def _contact_name_sql(column: Any) -> ColumnElement[str]:
    return func.lower(func.replace(func.replace(column, " ", ""), "\u3000", ""))


def find_duplicate_contacts(
    session: Session, limit: int = 100, cursor: str | None = None
) -> Page[DuplicatePair]:
    """Contacts sharing a normalised e-mail anywhere, or a name (spaces aside) in one account."""
    found: Pairs = defaultdict(set)
    shared = _shared_keys(Contact.email_key, Contact.id, where=Contact.email_key.is_not(None))
    _add_pairs(found, _self_join_pairs(session, Contact, "email_key", "id", shared), "same_email")
    a, b = aliased(Contact), aliased(Contact)
    same_name = select(a.id, b.id).join(
        b,
        and_(
            a.account_id == b.account_id,
            a.id < b.id,
            _contact_name_sql(a.name) == _contact_name_sql(b.name),
        ),
    )
    _add_pairs(found, session.execute(same_name), "same_name_in_account")
    return _page("contacts", found, CONTACT_REASONS, limit, cursor)


def rekey_accounts(session: Session) -> int:
    """Recompute every account's normalised name after the normalisation rules improved.

    The key is derived data, so the accounts' versions stay as they are. Returns how many
    keys changed; reads in batches and writes only the changed rows.
    """
    changed: list[dict[str, Any]] = []
    stmt = select(Account.id, Account.name, Account.name_key).execution_options(yield_per=5000)
    for account_id, name, old in session.execute(stmt):
        new = normalize_company_name(name)
        if new != old:
            changed.append({"b_id": account_id, "name_key": new})
    table = cast(Table, Account.__table__)
    update = (
        sa_update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(name_key=bindparam("name_key"))
    )
    for chunk in _chunks(changed, 1000):
        session.connection().execute(update, list(chunk))
    return len(changed)
