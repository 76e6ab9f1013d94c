"""A realistic, deterministic demo customer base for a Japanese B2B SaaS company.

Every account is planned first as an :class:`~banso.demo.story.AccountStory` (segment, start,
and what happens to it, with dates: see :mod:`banso.demo.story`); the rows (users, accounts,
contacts, contracts and their movements, deals, custom fields, audit entries) are derived
from the stories and bulk-inserted, so 2,000 accounts take seconds.

Later generators (product usage, timeline notes, health) make data that tells the same story:

- :func:`stories_by_account` gives ``{account id: AccountStory}`` for the demo in the
  database. It reads the run's parameters from :func:`demo_run` (an audit entry of entity
  ``demo_run`` holding ``seed``, ``accounts`` and ``today``) and each account's index from its
  external id ``demo:D00001`` (index 0).
- :func:`banso.demo.story.story_for` gives one story from ``(seed, index, today)``.

For instance, usage should ramp up after ``live_from``, fall from ``decline_start`` to
``churn_date`` for a ``churned`` account (and to today for an ``at_risk`` one), stop during
``pauses`` and step up on ``expansion_dates``. A few accounts entered again from an "old CRM"
(no segment, no demo external id, source ``旧CRM``) have no story: they are duplicates for
identity resolution to find.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from banso.accounts.identity import normalize_company_name, normalize_email
from banso.accounts.models import (
    Account,
    AccountDomain,
    AccountTag,
    Contact,
    CustomFieldDefinition,
    ExternalId,
)
from banso.audit.models import AuditEntry
from banso.audit.service import Actor, jsonable, record_many
from banso.auth.models import User
from banso.auth.service import hash_password
from banso.contracts.models import Contract, ContractMovement
from banso.deals.models import Deal
from banso.demo import vocabulary as v
from banso.demo.story import (
    DEFAULT_TODAY,
    SEGMENT_WEIGHTS,
    SEGMENTS,
    AccountStory,
    history_start,
    plan,
    round_mrr,
    story_for,
)

DEMO = Actor(label="demo")
RUN_ENTITY = "demo_run"
EXTERNAL_SYSTEM = "demo"
# The steps :func:`generate` reports to its ``progress`` callback, in order.
PHASES = ("plan", "users", "accounts", "contacts", "contracts", "deals", "audit")
Progress = Callable[[str, int], None]
_LOST = ("price", "competitor", "feature_gap", "no_budget", "timing", "internal_decision")
_ARCHIVED = ("no_response", "not_target", "duplicate")
_OPEN_STAGES = ("inquiry", "first_meeting", "proposal", "negotiation")


@dataclass(frozen=True)
class DemoRun:
    """The parameters a demo was generated with; enough to rebuild every story."""

    seed: int
    accounts: int
    today: date


@dataclass
class DemoResult:
    accounts: int
    contacts: int
    contracts: int
    movements: int
    deals: int
    audit_entries: int
    admin_email: str
    admin_created: bool


def external_value(index: int) -> str:
    """The ``demo`` external id of demo account number ``index`` (0-based)."""
    return f"D{index + 1:05d}"


def demo_run(session: Session) -> DemoRun | None:
    """The latest demo generated into this database, or None if there is none."""
    after = session.scalar(
        select(AuditEntry.after)
        .where(AuditEntry.entity == RUN_ENTITY)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if not after:
        return None
    return DemoRun(after["seed"], after["accounts"], date.fromisoformat(after["today"]))


def stories_by_account(session: Session) -> dict[int, AccountStory]:
    """The story of every demo account in the database, by account id (empty if no demo)."""
    run = demo_run(session)
    if run is None:
        return {}
    rows = session.execute(
        select(ExternalId.entity_id, ExternalId.value).where(
            ExternalId.entity == "account", ExternalId.system == EXTERNAL_SYSTEM
        )
    ).all()
    return {
        account_id: story_for(run.seed, int(value[1:]) - 1, run.today) for account_id, value in rows
    }


def generate(
    session: Session,
    *,
    seed: int = 42,
    n_accounts: int = 2000,
    today: date = DEFAULT_TODAY,
    admin_email: str = "admin@banso.example",
    admin_password: str,
    progress: Progress | None = None,
) -> DemoResult:
    """Write the demo customer base (the caller checks the database is empty and commits).

    Users that already exist (same e-mail) are kept as they are, password included.
    """
    step = progress or (lambda _label, _n: None)
    stories = plan(seed, n_accounts, today)
    step("plan", len(stories))
    rng = random.Random(f"banso-demo-rows:{seed}")
    audit = _Audit()
    csm_ids, admin_created = _users(session, audit, admin_email, admin_password)
    _custom_fields(session, audit)
    step("users", len(csm_ids))
    accounts = _accounts(session, audit, rng, stories, csm_ids, today)
    step("accounts", len(accounts.ids))
    contacts = _contacts(session, audit, rng, accounts)
    contact_count = sum(map(len, contacts.values()))
    step("contacts", contact_count)
    contract_ids, movement_count = _contracts(session, audit, stories, accounts.ids)
    step("contracts", len(contract_ids))
    deal_count = _deals(
        session, audit, rng, stories, accounts, contract_ids, contacts, csm_ids, today
    )
    step("deals", deal_count)
    _duplicates_from_crm(session, audit, rng, accounts.rows[: max(1, n_accounts // 150)])
    audit.rows.append(
        {
            "action": "generate",
            "entity": RUN_ENTITY,
            "entity_id": 0,
            "before": None,
            "after": {"seed": seed, "accounts": n_accounts, "today": today.isoformat()},
        }
    )
    record_many(session, DEMO, audit.rows)
    step("audit", len(audit.rows))
    return DemoResult(
        accounts=len(accounts.ids),
        contacts=contact_count,
        contracts=len(contract_ids),
        movements=movement_count,
        deals=deal_count,
        audit_entries=len(audit.rows),
        admin_email=admin_email,
        admin_created=admin_created,
    )


# ---------------------------------------------------------------- helpers


class _Audit:
    """Collects one 'create' entry per generated record, written at the end in one insert."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def created(self, entity: str, ids: list[int], rows: list[dict[str, Any]]) -> None:
        self.rows.extend(
            {
                "action": "create",
                "entity": entity,
                "entity_id": record_id,
                "before": None,
                "after": jsonable({k: v for k, v in row.items() if k != "password_hash"}),
            }
            for record_id, row in zip(ids, rows, strict=True)
        )


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert returning ids in parameter order (SQLite ≥3.35 and PostgreSQL).

    Core, on the table: the ORM's bulk insert would split the rows into a batch for every
    run of rows with other columns left None, which is most of them here.
    """
    if not rows:
        return []
    table = model.__table__
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, _same_keys(rows)))


def _insert_plain(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert of rows whose ids nobody needs (see :func:`_insert`)."""
    if rows:
        session.execute(insert(model.__table__), _same_keys(rows))


def _same_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One executemany needs the same keys in every row; a key a row leaves out is None."""
    keys = dict.fromkeys(k for row in rows for k in row)
    return [{k: row.get(k) for k in keys} for row in rows]


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _phone(rng: random.Random) -> str:
    area = rng.choice(v.AREA_CODES)
    rest = 10 - len(area)  # Japanese landlines have ten digits including the leading 0
    local = str(rng.randint(10 ** (rest - 1), 10**rest - 1))
    return f"{area}-{local[:-4]}-{local[-4:]}"


# ---------------------------------------------------------------- users and fields


def _users(
    session: Session, audit: _Audit, admin_email: str, admin_password: str
) -> tuple[list[int], bool]:
    """The admin, a manager and the CSMs who own accounts; returns (CSM ids, admin created)."""
    wanted = [
        {"email": admin_email, "name": "管理者", "role": "admin", "locale": "ja"},
        {"email": "manager@banso.example", "name": "高木 恵理", "role": "manager", "locale": "ja"},
    ] + [
        {"email": f"{roman}@banso.example", "name": name, "role": "csm", "locale": "ja"}
        for name, roman in v.CSMS
    ]
    existing = dict(
        session.execute(
            select(User.email, User.id).where(User.email.in_([u["email"] for u in wanted]))
        ).all()
    )
    new = [u for u in wanted if u["email"] not in existing]
    admin_created = admin_email not in existing
    if admin_created:
        new[0]["password_hash"] = hash_password(admin_password)
    ids = _insert(session, User, new)
    audit.created("user", ids, new)
    existing.update(zip((u["email"] for u in new), ids, strict=True))
    return [existing[u["email"]] for u in wanted if u["role"] == "csm"], admin_created


def _custom_fields(session: Session, audit: _Audit) -> None:
    rows: list[dict[str, Any]] = [
        {
            "entity": "account",
            "key": "plan_type",
            "type": "single_choice",
            "label_ja": "契約プラン種別",
            "label_en": "Plan type",
            "choices": list(v.PLANS.values()),
            "position": 10,
        },
        {
            "entity": "account",
            "key": "purpose",
            "type": "long_text",
            "label_ja": "導入目的",
            "label_en": "Purpose of adoption",
            "position": 20,
        },
        {
            "entity": "account",
            "key": "billing_code",
            "type": "text",
            "label_ja": "請求先コード",
            "label_en": "Billing code",
            "position": 30,
        },
        {
            "entity": "account",
            "key": "store_count",
            "type": "number",
            "label_ja": "店舗数",
            "label_en": "Number of sites",
            "position": 40,
        },
    ]
    # Definitions a team already made (same key) are theirs; the demo keeps them.
    taken = set(
        session.scalars(
            select(CustomFieldDefinition.key).where(CustomFieldDefinition.entity == "account")
        )
    )
    rows = [row for row in rows if row["key"] not in taken]
    audit.created("custom_field", _insert(session, CustomFieldDefinition, rows), rows)


# ---------------------------------------------------------------- accounts


@dataclass
class _Accounts:
    ids: list[int]
    rows: list[dict[str, Any]]
    domains: list[str]


def _company(rng: random.Random, industry: str, used: set[str]) -> tuple[str, str, str]:
    """A company name, its katakana reading and a domain, distinct while combinations last.

    The few duplicates the demo wants are made on purpose by :func:`_duplicates_from_crm`.
    """
    for _attempt in range(30):
        stem, stem_kana, stem_roman = rng.choice(v.NAME_STEMS)
        middle, middle_kana, middle_roman = rng.choice(v.MIDDLES)
        end, end_kana, end_roman = rng.choice(v.INDUSTRIES[industry])
        core, kana = f"{stem}{middle}{end}", f"{stem_kana}{middle_kana}{end_kana}"
        if f"name:{core}" not in used:
            break
    used.add(f"name:{core}")
    roll = rng.random()
    if industry == "医療クリニック" and roll < 0.5:
        name = f"医療法人社団{core}"
    elif roll < 0.6:
        name = f"株式会社{core}"
    elif roll < 0.85:
        name = f"{core}株式会社"
    elif roll < 0.93:
        name = f"合同会社{core}"
    else:
        name = f"有限会社{core}"
    slug = "-".join(p for p in (stem_roman, middle_roman, end_roman) if p)
    tld = rng.choice(v.TLDS)
    domain, n = f"{slug}.{tld}", 2
    while domain in used:
        domain, n = f"{slug}{n}.{tld}", n + 1
    used.add(domain)
    return name, kana, domain


def _lifecycle(story: AccountStory, today: date) -> str:
    """The CS lifecycle stage that the contract's state implies today."""
    if story.status == "churned":
        return "churned"
    if story.status == "trial":
        return "considering"
    age = (today - (story.live_from or story.start)).days
    if age < 45:
        return "initial_setup"
    if age < 150:
        return "early_operation"
    return "stable"


def _accounts(
    session: Session,
    audit: _Audit,
    rng: random.Random,
    stories: list[AccountStory],
    csm_ids: list[int],
    today: date,
) -> _Accounts:
    used: set[str] = set()
    rows, domains, tags = [], [], []
    for story in stories:
        name, kana, domain = _company(rng, story.industry, used)
        custom: dict[str, Any] = {
            "plan_type": v.PLANS[story.segment],
            "billing_code": f"C{100000 + story.index}",
            "store_count": {
                "SMB": rng.randint(1, 3),
                "Mid-Market": rng.randint(3, 30),
                "Enterprise": rng.randint(30, 400),
            }[story.segment],
        }
        if rng.random() < 0.6:
            custom["purpose"] = rng.choice(v.PURPOSES)
        rows.append(
            {
                "name": name,
                "name_kana": kana,
                "name_key": normalize_company_name(name),
                "industry": story.industry,
                "company_size": story.company_size,
                "segment": story.segment,
                "source": rng.choices(v.SOURCES, weights=v.SOURCE_WEIGHTS[story.segment])[0],
                "owner_id": rng.choice(csm_ids),
                "lifecycle_stage": _lifecycle(story, today),
                "mrr": story.final.mrr_after if story.status == "active" else 0,
                "custom": custom,
            }
        )
        domains.append(domain)
        tags.append(rng.sample(v.TAGS, rng.choice((0, 0, 1, 1, 2))))
    ids = _insert(session, Account, rows)
    _insert_plain(
        session,
        AccountDomain,
        [{"account_id": i, "domain": d} for i, d in zip(ids, domains, strict=True)],
    )
    tag_rows = [{"account_id": i, "tag": t} for i, ts in zip(ids, tags, strict=True) for t in ts]
    if tag_rows:
        _insert_plain(session, AccountTag, tag_rows)
    _insert_plain(
        session,
        ExternalId,
        [
            {
                "entity": "account",
                "entity_id": i,
                "system": EXTERNAL_SYSTEM,
                "value": external_value(s.index),
            }
            for i, s in zip(ids, stories, strict=True)
        ],
    )
    audit.created(
        "account",
        ids,
        [
            row
            | {"domains": [d], "tags": sorted(t), "external_ids": {"demo": external_value(s.index)}}
            for s, row, d, t in zip(stories, rows, domains, tags, strict=True)
        ],
    )
    return _Accounts(ids, rows, domains)


def _contacts(
    session: Session, audit: _Audit, rng: random.Random, accounts: _Accounts
) -> dict[int, list[int]]:
    """2–6 people per account, the decision maker first; returns contact ids by account id."""
    rows: list[dict[str, Any]] = []
    for account_id, domain in zip(accounts.ids, accounts.domains, strict=True):
        roles = [
            "decision_maker",
            "project_leader",
            *rng.sample(
                ["project_office", "power_user", "power_user", "user", "user"], rng.randint(0, 4)
            ),
        ]
        seen: set[str] = set()
        for role in roles:
            family, family_kana, family_roman = rng.choice(v.FAMILY_NAMES)
            given, given_kana, given_roman = rng.choice(v.GIVEN_NAMES)
            local = f"{given_roman}.{family_roman}"
            while local in seen:
                local += str(rng.randint(1, 9))
            seen.add(local)
            email = f"{local}@{domain}"
            rows.append(
                {
                    "account_id": account_id,
                    "name": f"{family} {given}",
                    "name_kana": f"{family_kana} {given_kana}",
                    "email": email,
                    "email_key": normalize_email(email),
                    "phone": _phone(rng),
                    "title": rng.choice(v.TITLES_BY_ROLE[role]),
                    "role": role,
                    "is_key_person": role in ("decision_maker", "project_leader"),
                    "custom": {},
                }
            )
    ids = _insert(session, Contact, rows)
    audit.created("contact", ids, rows)
    by_account: dict[int, list[int]] = {}
    for contact_id, row in zip(ids, rows, strict=True):
        by_account.setdefault(row["account_id"], []).append(contact_id)
    return by_account


# ---------------------------------------------------------------- contracts


def _contract_end(story: AccountStory) -> date | None:
    """The end date ``record_movement`` would leave: the last term end, or the churn date."""
    end = None
    for m in story.movements:
        if m.end_date is not None:
            end = m.end_date
        if m.kind == "churn" and (end is None or end > m.on):
            end = m.on
    return end


def _contracts(
    session: Session, audit: _Audit, stories: list[AccountStory], account_ids: list[int]
) -> tuple[list[int], int]:
    rows: list[dict[str, Any]] = [
        {
            "account_id": account_id,
            "plan": v.PLANS[story.segment],
            # A trial keeps the MRR it was quoted (it earns nothing until it converts).
            "mrr": story.quoted_mrr if story.status == "trial" else story.final.mrr_after,
            "currency": "JPY",
            "seats": story.final.seats_after,
            "start_date": story.start,
            "end_date": _contract_end(story),
            "auto_renew": True,
            "status": story.status,
            "custom": {},
        }
        for story, account_id in zip(stories, account_ids, strict=True)
    ]
    contract_ids = _insert(session, Contract, rows)
    audit.created("contract", contract_ids, rows)
    movement_rows = []
    for story, row, contract_id in zip(stories, rows, contract_ids, strict=True):
        mrr_before, seats_before = 0, None
        for m in story.movements:
            movement_rows.append(
                {
                    "contract_id": contract_id,
                    "account_id": row["account_id"],
                    "effective_date": m.on,
                    "kind": m.kind,
                    "mrr_before": mrr_before,
                    "mrr_after": m.mrr_after,
                    "seats_before": seats_before,
                    "seats_after": m.seats_after,
                    "status_after": m.status_after,
                    "plan_after": row["plan"],
                    "reason": m.reason,
                    "actor": DEMO.label,
                }
            )
            mrr_before = m.mrr_after if m.status_after == "active" else 0
            seats_before = m.seats_after
    _insert_plain(session, ContractMovement, movement_rows)
    return contract_ids, len(movement_rows)


# ---------------------------------------------------------------- deals


def _deals(
    session: Session,
    audit: _Audit,
    rng: random.Random,
    stories: list[AccountStory],
    accounts: _Accounts,
    contract_ids: list[int],
    contacts: dict[int, list[int]],
    csm_ids: list[int],
    today: date,
) -> int:
    rows = _won_deals(rng, stories, accounts, contract_ids, contacts)
    rows += _upsell_deals(rng, stories, accounts, contacts, today)
    rows += _other_inquiries(rng, len(stories), csm_ids, today)
    ids = _insert(session, Deal, rows)
    audit.created("deal", ids, rows)
    return len(ids)


def _won_deals(
    rng: random.Random,
    stories: list[AccountStory],
    accounts: _Accounts,
    contract_ids: list[int],
    contacts: dict[int, list[int]],
) -> list[dict[str, Any]]:
    """The deal each customer was won by, linked to its account, decision maker and contract."""
    rows: list[dict[str, Any]] = []
    for story, row, account_id, contract_id in zip(
        stories, accounts.rows, accounts.ids, contract_ids, strict=True
    ):
        inquiry = story.start - timedelta(days=rng.randint(14, 120))
        rows.append(
            {
                "title": f"{row['name']} 導入検討",
                "account_id": account_id,
                "contact_id": contacts[account_id][0],
                "company_name": row["name"],
                "source_channel": row["source"],
                "company_size": story.company_size,
                "problem": rng.choice(v.PROBLEMS),
                "budget": story.first_mrr * 12,
                "currency": "JPY",
                "expected_mrr": story.first_mrr,
                "story": rng.choice(v.STORIES),
                "stage_key": "won",
                "owner_id": row["owner_id"],
                "inquiry_date": inquiry,
                "expected_close_date": story.start,
                "closed_date": story.start,
                "contract_id": contract_id,
                "custom": {},
            }
        )
    return rows


def _upsell_deals(
    rng: random.Random,
    stories: list[AccountStory],
    accounts: _Accounts,
    contacts: dict[int, list[int]],
    today: date,
) -> list[dict[str, Any]]:
    """Open expansion proposals for about one healthy customer in ten (the upsell pipeline)."""
    rows: list[dict[str, Any]] = []
    for story, row, account_id in zip(stories, accounts.rows, accounts.ids, strict=True):
        if story.kind not in ("steady", "expanding") or rng.random() >= 0.1:
            continue
        inquiry = today - timedelta(days=rng.randint(3, 90))
        expected = round_mrr(story.final.mrr_after * rng.uniform(0.2, 0.5))
        rows.append(
            {
                "title": f"{row['name']} {rng.choice(v.UPSELL_TITLES)}",
                "account_id": account_id,
                "contact_id": contacts[account_id][rng.randint(0, 1)],
                "company_name": row["name"],
                "source_channel": v.UPSELL_SOURCE,
                "company_size": story.company_size,
                "problem": rng.choice(v.PROBLEMS),
                "budget": expected * 12 if rng.random() < 0.5 else None,
                "currency": "JPY",
                "expected_mrr": expected,
                "story": None,
                "stage_key": _open_stage(rng, today, inquiry),
                "owner_id": row["owner_id"],
                "inquiry_date": inquiry,
                "expected_close_date": today + timedelta(days=rng.randint(14, 90)),
                "closed_date": None,
                "custom": {},
            }
        )
    return rows


def _open_stage(rng: random.Random, today: date, inquiry: date) -> str:
    """Older open deals have gone further through the pipeline."""
    step = min(3, (today - inquiry).days // 25 + rng.randint(-1, 0))
    return _OPEN_STAGES[max(0, step)]


def _other_inquiries(
    rng: random.Random, n_accounts: int, csm_ids: list[int], today: date
) -> list[dict[str, Any]]:
    """Inquiries that did not become customers: lost, archived, or still open (recent ones)."""
    rows: list[dict[str, Any]] = []
    used: set[str] = set()
    for _ in range(int(n_accounts * 0.8)):
        segment = rng.choices(SEGMENTS, weights=SEGMENT_WEIGHTS)[0]
        industry = rng.choice(list(v.INDUSTRIES))
        name, _kana, _domain = _company(rng, industry, used)
        roll = rng.random()
        reason = rng.choice(_LOST) if roll < 0.55 else rng.choice(_ARCHIVED) if roll < 0.8 else None
        if reason is None:
            inquiry = today - timedelta(days=rng.randint(0, 110))
            stage, closed = _open_stage(rng, today, inquiry), None
            expected_close = today + timedelta(days=rng.randint(7, 90))
        else:
            inquiry = _between(rng, history_start(today) - timedelta(days=60), today)
            stage = "lost" if reason in _LOST else "archived"
            closed = min(today, inquiry + timedelta(days=rng.randint(10, 90)))
            expected_close = inquiry + timedelta(days=60)
        expected = round_mrr(rng.uniform(10_000, 400_000))
        rows.append(
            {
                "title": f"{name} お問い合わせ",
                "account_id": None,
                "contact_id": None,
                "company_name": name,
                "source_channel": rng.choices(v.SOURCES, weights=v.SOURCE_WEIGHTS[segment])[0],
                "company_size": rng.choice(v.SIZES_BY_SEGMENT[segment]),
                "problem": rng.choice(v.PROBLEMS),
                "budget": expected * 12 if rng.random() < 0.7 else None,
                "currency": "JPY",
                "expected_mrr": expected,
                "story": rng.choice(v.STORIES),
                "stage_key": stage,
                "lost_reason_key": reason,
                "lost_reason_text": rng.choice(v.LOST_NOTES[reason]) if reason else None,
                "owner_id": rng.choice(csm_ids),
                "inquiry_date": inquiry,
                "expected_close_date": expected_close,
                "closed_date": closed,
                "custom": {},
            }
        )
    return rows


# ---------------------------------------------------------------- duplicates


def _duplicates_from_crm(
    session: Session, audit: _Audit, rng: random.Random, originals: list[dict[str, Any]]
) -> None:
    """A few accounts entered again from an old CRM export, spelled differently and without
    a domain, as old CRM records are (something for identity resolution to find)."""
    rows: list[dict[str, Any]] = []
    for row in originals:
        core = row["name"]
        for form in ("医療法人社団", "株式会社", "合同会社", "有限会社"):
            core = core.replace(form, "")
        variant = f"(株){core}" if rng.random() < 0.5 else f"㈱ {core}"
        rows.append(
            {
                "name": variant,
                "name_kana": row["name_kana"],
                "name_key": normalize_company_name(variant),
                "industry": row["industry"],
                "company_size": None,
                "segment": None,
                "source": "旧CRM",
                "owner_id": None,
                "lifecycle_stage": None,
                "mrr": 0,
                "custom": {},
            }
        )
    ids = _insert(session, Account, rows)
    external = [f"OLD-{n:04d}" for n in range(len(ids))]
    _insert_plain(
        session,
        ExternalId,
        [
            {"entity": "account", "entity_id": i, "system": "old_crm", "value": value}
            for i, value in zip(ids, external, strict=True)
        ],
    )
    audit.created(
        "account",
        ids,
        [r | {"external_ids": {"old_crm": e}} for r, e in zip(rows, external, strict=True)],
    )
