"""Identity resolution (名寄せ): which account or contact a record from another system is.

Evidence is tried strongest first: an external id, then a contact's e-mail, then the company
domain of an e-mail or website, then the normalised company name. A name or domain shared by
several accounts is ambiguous: no match is made, and the candidates are returned so a person
can decide. Everything is set-based so thousands of records resolve in a few queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from banso.accounts.externalids import find_many
from banso.accounts.identity import (
    email_domain,
    normalize_company_name,
    normalize_domain,
    normalize_email,
)
from banso.accounts.models import Account, AccountDomain, Contact
from banso.errors import InvalidInput


@dataclass(frozen=True)
class Match:
    """A resolved record: its id and the evidence (external_id, email, domain or name)."""

    id: int | None
    reason: str
    candidates: tuple[int, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.id is None


@dataclass
class AccountEvidence:
    """What another system knows about a company (any field may be missing)."""

    external: tuple[str, str] | None = None
    name: str | None = None
    domain: str | None = None
    email: str | None = None


def _unique(ids: set[int], reason: str) -> Match | None:
    if not ids:
        return None
    if len(ids) == 1:
        return Match(next(iter(ids)), reason)
    return Match(None, f"ambiguous {reason}", tuple(sorted(ids)))


def _domain_of(evidence: AccountEvidence) -> str | None:
    if evidence.domain:
        try:
            return normalize_domain(evidence.domain)
        except ValueError:
            return None
    if evidence.email:
        return email_domain(evidence.email)
    return None


def resolve_accounts_bulk(session: Session, records: list[AccountEvidence]) -> list[Match | None]:
    """Resolve many companies at once: one query per kind of evidence, whatever the count."""
    externals = sorted({r.external for r in records if r.external})
    by_external = find_many(session, "account", externals) if externals else {}

    domains = sorted({d for r in records if (d := _domain_of(r))})
    by_domain: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(domains), 500):
        stmt = select(AccountDomain.domain, AccountDomain.account_id).where(
            AccountDomain.domain.in_(domains[start : start + 500])
        )
        for domain, account_id in session.execute(stmt):
            by_domain[domain].add(account_id)

    emails = sorted({normalize_email(r.email) for r in records if r.email})
    by_email: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(emails), 500):
        rows = session.execute(
            select(Contact.email_key, Contact.account_id).where(
                Contact.email_key.in_(emails[start : start + 500])
            )
        )
        for email, account_id in rows:
            if email is not None:
                by_email[email].add(account_id)

    keys = sorted({normalize_company_name(r.name) for r in records if r.name and r.name.strip()})
    by_name: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(keys), 500):
        stmt = select(Account.name_key, Account.id).where(
            Account.name_key.in_(keys[start : start + 500])
        )
        for key, account_id in session.execute(stmt):
            by_name[key].add(account_id)

    results: list[Match | None] = []
    for r in records:
        match = None
        if r.external and r.external in by_external:
            match = Match(by_external[r.external], "external_id")
        if match is None and r.email:
            match = _unique(by_email.get(normalize_email(r.email), set()), "email")
        if match is None and (company_domain := _domain_of(r)):
            match = _unique(by_domain.get(company_domain, set()), "domain")
        if match is None and r.name and r.name.strip():
            match = _unique(by_name.get(normalize_company_name(r.name), set()), "name")
        results.append(match)
    return results


def resolve_account(
    session: Session,
    *,
    external: tuple[str, str] | None = None,
    name: str | None = None,
    domain: str | None = None,
    email: str | None = None,
) -> Match | None:
    """The account these facts point to, with the reason; None when nothing matches."""
    evidence = AccountEvidence(external=external, name=name, domain=domain, email=email)
    if not any((external, name, domain, email)):
        raise InvalidInput.one("query", "give at least one of external id, name, domain or e-mail")
    return resolve_accounts_bulk(session, [evidence])[0]


def resolve_contact(
    session: Session,
    *,
    external: tuple[str, str] | None = None,
    email: str | None = None,
    account_id: int | None = None,
) -> Match | None:
    """The contact: by external id, else by e-mail (within ``account_id`` when given)."""
    if external:
        found = find_many(session, "contact", [external])
        if external in found:
            return Match(found[external], "external_id")
    if email:
        stmt = select(Contact.id).where(Contact.email_key == normalize_email(email))
        if account_id is not None:
            stmt = stmt.where(Contact.account_id == account_id)
        return _unique(set(session.scalars(stmt)), "email")
    return None


# ---------------------------------------------------------------- duplicates


@dataclass
class DuplicatePair:
    """Two records that are probably the same, with every reason found and a score."""

    first_id: int
    second_id: int
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        weights = {
            "same_domain": 60,
            "same_name": 50,
            "same_email": 80,
            "same_reading": 25,
            "same_name_in_account": 40,
        }
        return min(100, sum(weights.get(r, 10) for r in self.reasons))

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_id": self.first_id,
            "second_id": self.second_id,
            "reasons": self.reasons,
            "score": self.score,
        }


def _pairs(
    session: Session, stmt: Any, reason: str, into: dict[tuple[int, int], DuplicatePair]
) -> None:
    for first, second in session.execute(stmt):
        pair = into.setdefault((first, second), DuplicatePair(first, second))
        if reason not in pair.reasons:
            pair.reasons.append(reason)


def _reading_key() -> Any:
    # Readings compare without spaces (the importer and users write 'カブシキ ガイシャ' both ways).
    return func.replace(func.replace(Account.name_kana, " ", ""), "\u3000", "")


def find_duplicate_accounts(
    session: Session, *, limit: int = 100, offset: int = 0
) -> list[DuplicatePair]:
    """Likely duplicate accounts, highest score first (self-joins on indexed keys)."""
    a, b = aliased(Account), aliased(Account)
    found: dict[tuple[int, int], DuplicatePair] = {}
    _pairs(
        session,
        select(a.id, b.id)
        .join(b, and_(a.name_key == b.name_key, a.id < b.id))
        .where(a.name_key != ""),
        "same_name",
        found,
    )
    da, db = aliased(AccountDomain), aliased(AccountDomain)
    _pairs(
        session,
        select(da.account_id, db.account_id)
        .join(db, and_(da.domain == db.domain, da.account_id < db.account_id))
        .distinct(),
        "same_domain",
        found,
    )
    reading = (
        select(Account.id.label("id"), _reading_key().label("reading"))
        .where(Account.name_kana.is_not(None), func.length(Account.name_kana) >= 3)
        .subquery()
    )
    ra, rb = aliased(reading), aliased(reading)
    _pairs(
        session,
        select(ra.c.id, rb.c.id).join(rb, and_(ra.c.reading == rb.c.reading, ra.c.id < rb.c.id)),
        "same_reading",
        found,
    )
    ranked = sorted(found.values(), key=lambda p: (-p.score, p.first_id, p.second_id))
    return ranked[offset : offset + limit]


def find_duplicate_contacts(
    session: Session, *, limit: int = 100, offset: int = 0
) -> list[DuplicatePair]:
    """Contacts sharing an e-mail anywhere, or a name inside one account."""
    a, b = aliased(Contact), aliased(Contact)
    found: dict[tuple[int, int], DuplicatePair] = {}
    _pairs(
        session,
        select(a.id, b.id)
        .join(b, and_(a.email_key == b.email_key, a.id < b.id))
        .where(a.email_key.is_not(None)),
        "same_email",
        found,
    )
    _pairs(
        session,
        select(a.id, b.id).join(
            b,
            and_(
                a.account_id == b.account_id,
                a.id < b.id,
                func.replace(func.replace(a.name, " ", ""), "\u3000", "")
                == func.replace(func.replace(b.name, " ", ""), "\u3000", ""),
            ),
        ),
        "same_name_in_account",
        found,
    )
    ranked = sorted(found.values(), key=lambda p: (-p.score, p.first_id, p.second_id))
    return ranked[offset : offset + limit]
