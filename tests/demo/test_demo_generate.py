from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.customfields import validate_custom
from banso.accounts.models import (
    COMPANY_SIZES,
    CONTACT_ROLES,
    LIFECYCLE_STAGES,
    Account,
    AccountDomain,
    AccountTag,
    Contact,
    CustomFieldDefinition,
)
from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.auth.models import User
from banso.auth.service import UserIn, create_user, verify_password
from banso.contracts.models import Contract, ContractMovement
from banso.deals.models import Deal
from banso.demo import vocabulary as v
from banso.demo.generator import DemoResult, generate

from .conftest import ACCOUNTS, PASSWORD

DEMO_ACCOUNTS = Account.segment.is_not(None)  # the old-CRM duplicates have no segment


def _digest(session: Session) -> str:
    """Every generated value except database ids (PostgreSQL sequences survive a rollback)."""
    queries: list[Any] = [
        select(
            Account.name,
            Account.name_kana,
            Account.segment,
            Account.industry,
            Account.source,
            Account.mrr,
            Account.lifecycle_stage,
            Account.custom,
        ).order_by(Account.id),
        select(AccountDomain.domain).order_by(AccountDomain.domain),
        select(Account.name, AccountTag.tag).join(AccountTag).order_by(Account.id, AccountTag.tag),
        select(
            Account.name,
            Contact.name,
            Contact.name_kana,
            Contact.email,
            Contact.role,
            Contact.phone,
        )
        .join(Account)
        .order_by(Contact.id),
        select(
            Account.name,
            Contract.plan,
            Contract.mrr,
            Contract.status,
            Contract.start_date,
            Contract.end_date,
        )
        .join(Account)
        .order_by(Contract.id),
        select(
            Account.name,
            ContractMovement.effective_date,
            ContractMovement.kind,
            ContractMovement.mrr_before,
            ContractMovement.mrr_after,
            ContractMovement.status_after,
        )
        .join(Account)
        .order_by(ContractMovement.id),
        select(
            Deal.title,
            Deal.stage_key,
            Deal.lost_reason_key,
            Deal.lost_reason_text,
            Deal.budget,
            Deal.inquiry_date,
            Deal.closed_date,
        ).order_by(Deal.id),
    ]
    rows = [[str(value) for value in row] for q in queries for row in session.execute(q)]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def test_it_generates_the_same_rows_for_the_same_seed(session: Session) -> None:
    generate(session, seed=3, n_accounts=40, admin_password=PASSWORD)
    first = _digest(session)
    session.rollback()
    generate(session, seed=3, n_accounts=40, admin_password=PASSWORD)
    assert _digest(session) == first
    session.rollback()
    generate(session, seed=4, n_accounts=40, admin_password=PASSWORD)
    assert _digest(session) != first


def test_it_creates_the_asked_number_of_customers(session: Session, demo: DemoResult) -> None:
    customers = session.scalar(select(func.count()).where(DEMO_ACCOUNTS)) or 0
    assert customers == ACCOUNTS
    assert demo.contracts == ACCOUNTS
    assert session.scalar(select(func.count()).select_from(Contract)) == ACCOUNTS
    assert session.scalar(select(func.count()).select_from(Contact)) == demo.contacts
    assert session.scalar(select(func.count()).select_from(Deal)) == demo.deals > ACCOUNTS


def test_it_makes_japanese_companies_of_every_kind(session: Session, demo: DemoResult) -> None:
    rows = session.execute(
        select(
            Account.name,
            Account.name_kana,
            Account.industry,
            Account.segment,
            Account.company_size,
            Account.source,
            Account.owner_id,
        ).where(DEMO_ACCOUNTS)
    ).all()
    forms = ("株式会社", "合同会社", "有限会社", "医療法人社団")
    assert all(any(f in name for f in forms) for name, *_ in rows)
    assert all(kana and all("゠" <= ch <= "ヿ" for ch in kana) for _, kana, *_ in rows)
    assert {r.industry for r in rows} <= set(v.INDUSTRIES) and len({r.industry for r in rows}) >= 6
    assert {r.segment for r in rows} == {"SMB", "Mid-Market", "Enterprise"}
    assert all(r.company_size in v.SIZES_BY_SEGMENT[r.segment] for r in rows)
    assert {r.company_size for r in rows} <= set(COMPANY_SIZES)
    assert {r.source for r in rows} <= set(v.SOURCES) and len({r.source for r in rows}) >= 4
    csms = set(session.scalars(select(User.id).where(User.role == "csm")))
    assert {r.owner_id for r in rows} <= csms and len(csms) == len(v.CSMS)
    domains = session.scalars(select(AccountDomain.domain)).all()
    assert len(domains) == len(set(domains)) == ACCOUNTS
    assert all(d.endswith((".co.jp", ".jp", ".com", ".net")) for d in domains)


def test_every_customer_has_a_decision_maker_and_at_least_two_contacts(
    session: Session, demo: DemoResult
) -> None:
    per_account = session.execute(
        select(
            Contact.account_id,
            func.count(),
            func.sum(func.cast(Contact.role == "decision_maker", Account.mrr.type)),
            func.sum(func.cast(Contact.is_key_person, Account.mrr.type)),
        ).group_by(Contact.account_id)
    ).all()
    assert len(per_account) == ACCOUNTS
    assert all(
        2 <= count <= 6 and deciders == 1 and keys >= 1 for _, count, deciders, keys in per_account
    )
    contacts = session.execute(
        select(Contact.email, Contact.name_kana, Contact.role, AccountDomain.domain).join(
            AccountDomain, AccountDomain.account_id == Contact.account_id
        )
    ).all()
    assert all(c.email.endswith("@" + c.domain) for c in contacts)
    assert all(c.role in CONTACT_ROLES and c.name_kana for c in contacts)
    phones = session.scalars(select(Contact.phone)).all()
    assert all(re.fullmatch(r"0\d{1,3}-\d{3,4}-\d{4}", p or "") for p in phones)
    assert all(len((p or "").replace("-", "")) == 10 for p in phones)


def test_lifecycle_stages_follow_the_contracts(session: Session, demo: DemoResult) -> None:
    rows = session.execute(select(Account.lifecycle_stage, Contract.status).join(Contract)).all()
    assert {stage for stage, _ in rows} <= set(LIFECYCLE_STAGES)
    for stage, status in rows:
        assert (stage == "churned") == (status == "churned")
        assert (stage == "considering") == (status == "trial")


def test_custom_field_values_pass_their_definitions(session: Session, demo: DemoResult) -> None:
    labels = set(session.scalars(select(CustomFieldDefinition.label_ja)))
    assert {"契約プラン種別", "導入目的", "請求先コード"} <= labels
    for custom in session.scalars(select(Account.custom).where(DEMO_ACCOUNTS)):
        assert validate_custom(session, "account", custom) == custom
        assert custom["plan_type"] in v.PLANS.values()


def test_it_records_one_audit_entry_per_created_record(session: Session, demo: DemoResult) -> None:
    audited = dict(
        session.execute(
            select(AuditEntry.entity, func.count())
            .where(AuditEntry.actor == "demo", AuditEntry.action == "create")
            .group_by(AuditEntry.entity)
        ).all()
    )
    tables = {
        "account": Account,
        "contact": Contact,
        "contract": Contract,
        "deal": Deal,
        "user": User,
        "custom_field": CustomFieldDefinition,
    }
    for entity, model in tables.items():
        assert audited[entity] == session.scalar(select(func.count()).select_from(model))
    assert demo.audit_entries == sum(audited.values()) + 1  # and the run itself
    hashes = session.scalars(select(AuditEntry.after).where(AuditEntry.entity == "user")).all()
    assert all("password_hash" not in after for after in hashes)


def test_the_admin_can_sign_in_with_the_printed_password(
    session: Session, demo: DemoResult
) -> None:
    admin = session.scalar(select(User).where(User.email == demo.admin_email))
    assert admin is not None and admin.role == "admin" and demo.admin_created
    assert verify_password(admin, PASSWORD)
    assert not verify_password(admin, "wrong")


def test_it_keeps_users_that_already_exist(session: Session) -> None:
    create_user(
        session,
        Actor(label="test"),
        UserIn(
            email="Admin@banso.example",
            name="既存の管理者",
            role="admin",
            password="the-teams-own-password",
        ),
    )
    result = generate(session, seed=1, n_accounts=10, admin_password=PASSWORD)
    assert not result.admin_created
    admin = session.scalar(select(User).where(User.email == "admin@banso.example"))
    assert admin is not None and admin.name == "既存の管理者"
    assert verify_password(admin, "the-teams-own-password")
    assert session.scalar(select(func.count()).select_from(User)) == 2 + len(v.CSMS)
