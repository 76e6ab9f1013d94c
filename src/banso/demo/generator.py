"""A realistic, deterministic demo customer base.

Every account is planned first, as an :class:`AccountStory`, from ``random.Random(seed)``:
its segment, start date, and what happens to it (``steady``, ``expanding``, ``contracting``,
``churned``, ``paused``, ``trial_lost``) with the dates. The rows (accounts, contacts,
contracts and their movements, deals) are then derived from the stories. Later generators —
product usage, timeline notes, health — call :func:`plan` with the same seed and size to get
the same stories and make data that tells the same story (for instance usage that declines
from ``decline_start`` before a ``churn_date``). Each demo account carries the external id
``demo:D00001`` (its index) so a story can be found from the account and back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert
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
from banso.audit.service import Actor, record_many
from banso.auth.models import User
from banso.auth.service import hash_password
from banso.contracts.models import Contract, ContractMovement
from banso.deals.models import Deal
from banso.demo import vocabulary as v

DEMO = Actor(label="demo")
TODAY = date(2026, 11, 22)
HISTORY_START = date(2023, 12, 1)
ANNUAL_CHURN = {"SMB": 0.16, "Mid-Market": 0.10, "Enterprise": 0.05}
Progress = Callable[[str, int], None]


@dataclass
class Movement:
    kind: str
    on: date
    mrr_after: int
    status_after: str
    seats_after: int
    end_date: date | None = None
    reason: str | None = None


@dataclass
class AccountStory:
    index: int
    segment: str
    company_size: str
    industry: str
    start: date
    kind: str = "steady"
    churn_date: date | None = None
    decline_start: date | None = None
    expansion_dates: list[date] = field(default_factory=list)
    contraction_dates: list[date] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)

    @property
    def final(self) -> Movement:
        return self.movements[-1]


def _months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, min(day.day, 28))


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _round_mrr(value: float) -> int:
    return max(1_000, round(value / 1_000) * 1_000)


def _plan_contract(rng: random.Random, story: AccountStory) -> None:
    """Simulate the contract term by term up to TODAY, recording each movement."""
    base = {
        "SMB": (12_000, 60_000),
        "Mid-Market": (60_000, 300_000),
        "Enterprise": (300_000, 1_800_000),
    }
    seats_range = {"SMB": (3, 20), "Mid-Market": (20, 150), "Enterprise": (150, 1500)}
    mrr = _round_mrr(rng.uniform(*base[story.segment]))
    seats = rng.randint(*seats_range[story.segment])
    grower = rng.random() < 0.25
    moves = story.movements
    day = story.start
    if rng.random() < 0.3:  # began with a free trial
        # A trial earns nothing until it converts, as contracts.service records it.
        moves.append(Movement("new", day, 0, "trial", seats, reason="トライアル開始"))
        day = day + timedelta(days=rng.choice((14, 21, 30)))
        if rng.random() < 0.12 or day > TODAY:
            if day <= TODAY:
                moves.append(
                    Movement("churn", day, 0, "churned", seats, reason="トライアル後に見送り")
                )
                story.kind, story.churn_date = "trial_lost", day
            return
        moves.append(
            Movement("new", day, mrr, "active", seats, _months(day, 12), "トライアルから本契約")
        )
    else:
        moves.append(Movement("new", day, mrr, "active", seats, _months(day, 12), "新規契約"))
    term_end = _months(day, 12)
    while True:
        horizon = min(term_end, TODAY)
        if grower and rng.random() < 0.6 and (horizon - day).days > 40:
            day = _between(rng, day + timedelta(days=20), horizon - timedelta(days=10))
            mrr, seats = (
                _round_mrr(mrr * rng.uniform(1.2, 1.6)),
                int(seats * rng.uniform(1.2, 1.6)) + 1,
            )
            moves.append(Movement("expansion", day, mrr, "active", seats, reason="利用拠点の追加"))
            story.expansion_dates.append(day)
        elif rng.random() < 0.07 and (horizon - day).days > 40:
            day = _between(rng, day + timedelta(days=20), horizon - timedelta(days=10))
            mrr, seats = _round_mrr(mrr * rng.uniform(0.6, 0.85)), max(1, int(seats * 0.75))
            moves.append(
                Movement("contraction", day, mrr, "active", seats, reason="一部店舗の閉鎖")
            )
            story.contraction_dates.append(day)
        elif rng.random() < 0.02 and (horizon - day).days > 120:
            day = _between(rng, day + timedelta(days=20), horizon - timedelta(days=100))
            moves.append(Movement("contraction", day, 0, "paused", seats, reason="改装のため休止"))
            day = day + timedelta(days=rng.randint(30, 90))
            moves.append(Movement("reactivation", day, mrr, "active", seats, reason="営業再開"))
            story.kind = "paused"
        if term_end > TODAY:
            break
        if rng.random() < ANNUAL_CHURN[story.segment] * (
            0.5 if grower else 1.6 if story.contraction_dates else 1.0
        ):
            moves.append(
                Movement("churn", term_end, 0, "churned", seats, reason=rng.choice(_CHURN_REASONS))
            )
            story.kind, story.churn_date = "churned", term_end
            story.decline_start = term_end - timedelta(days=rng.randint(60, 150))
            if rng.random() < 0.08 and _months(term_end, 6) < TODAY:
                day = _between(rng, _months(term_end, 3), min(_months(term_end, 9), TODAY))
                mrr = _round_mrr(mrr * rng.uniform(0.8, 1.1))
                moves.append(
                    Movement("reactivation", day, mrr, "active", seats, _months(day, 12), "再契約")
                )
                story.kind, story.churn_date, story.decline_start = "steady", None, None
                term_end = _months(day, 12)
                continue
            return
        day = term_end
        term_end = _months(term_end, 12)
        moves.append(Movement("renewal", day, mrr, "active", seats, term_end, "自動更新"))
    if story.kind not in ("paused",):
        if story.expansion_dates:
            story.kind = "expanding"
        elif story.contraction_dates:
            story.kind = "contracting"


_CHURN_REASONS = (
    "事業縮小のため",
    "競合サービスへ乗り換え",
    "現場で定着せず利用が減少",
    "担当者の退職で推進者不在",
    "価格見直しの結果、解約",
)


def plan(seed: int, n_accounts: int) -> list[AccountStory]:
    """The stories of every demo account; the same seed and size always give the same list."""
    rng = random.Random(seed)
    stories = []
    industries = list(v.INDUSTRIES)
    for index in range(n_accounts):
        segment = rng.choices(("SMB", "Mid-Market", "Enterprise"), weights=(60, 30, 10))[0]
        latest = TODAY - timedelta(days=20)
        start = _between(rng, HISTORY_START, latest)
        story = AccountStory(
            index=index,
            segment=segment,
            company_size=rng.choice(v.SIZES_BY_SEGMENT[segment]),
            industry=rng.choice(industries),
            start=start,
        )
        _plan_contract(rng, story)
        stories.append(story)
    return stories


# ---------------------------------------------------------------- rows


@dataclass
class DemoResult:
    accounts: int
    contacts: int
    contracts: int
    movements: int
    deals: int
    admin_email: str


def _company(rng: random.Random, industry: str, used: set[str]) -> tuple[str, str, str]:
    # Distinct companies get distinct names while combinations last; the few duplicates the
    # demo wants are made on purpose by _duplicates_from_crm.
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
    domain = f"{slug}.{rng.choice(v.TLDS)}"
    n = 2
    while domain in used:
        domain = f"{slug}{n}.{domain.split('.', 1)[1]}"
        n += 1
    used.add(domain)
    return name, kana, domain


def _lifecycle(story: AccountStory) -> str:
    final = story.final
    if final.status_after == "churned":
        return "churned"
    if final.status_after == "trial":
        return "considering"
    age = (TODAY - story.start).days
    if age < 45:
        return "initial_setup"
    if age < 150:
        return "early_operation"
    return "stable"


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert returning ids in parameter order (SQLite ≥3.35 and PostgreSQL)."""
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.scalars(stmt, rows))


def _users(session: Session, admin_email: str, admin_password: str) -> list[int]:
    rows = [
        {
            "email": admin_email,
            "name": "管理者",
            "role": "admin",
            "locale": "ja",
            "password_hash": hash_password(admin_password),
        },
        {"email": "manager@banso.example", "name": "高木 恵理", "role": "manager", "locale": "ja"},
    ] + [
        {"email": f"{roman}@banso.example", "name": name, "role": "csm", "locale": "ja"}
        for name, roman in v.CSMS
    ]
    ids = _insert(session, User, rows)
    return ids[2:]


def _custom_fields(session: Session) -> None:
    session.execute(
        insert(CustomFieldDefinition),
        [
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
        ],
    )


def generate(
    session: Session,
    *,
    seed: int = 42,
    n_accounts: int = 2000,
    admin_email: str = "admin@banso.example",
    admin_password: str,
    progress: Progress | None = None,
) -> DemoResult:
    """Write the demo customer base into an empty database (the caller commits)."""
    step = progress or (lambda _label, _n: None)
    stories = plan(seed, n_accounts)
    rng = random.Random(seed * 7919 + 1)
    csm_ids = _users(session, admin_email, admin_password)
    _custom_fields(session)
    used_domains: set[str] = set()

    account_rows, domain_rows, tag_rows = [], [], []
    for story in stories:
        name, kana, domain = _company(rng, story.industry, used_domains)
        final_mrr = story.final.mrr_after if story.final.status_after == "active" else 0
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
        account_rows.append(
            {
                "name": name,
                "name_kana": kana,
                "name_key": normalize_company_name(name),
                "industry": story.industry,
                "company_size": story.company_size,
                "segment": story.segment,
                "source": rng.choice(v.SOURCES),
                "owner_id": rng.choice(csm_ids),
                "lifecycle_stage": _lifecycle(story),
                "mrr": final_mrr,
                "custom": custom,
            }
        )
        domain_rows.append(domain)
        tag_rows.append(rng.sample(v.TAGS, rng.choice((0, 0, 1, 1, 2))))
    account_ids = _insert(session, Account, account_rows)
    step("accounts", len(account_ids))
    session.execute(
        insert(AccountDomain),
        [{"account_id": i, "domain": d} for i, d in zip(account_ids, domain_rows, strict=True)],
    )
    tags = [
        {"account_id": i, "tag": t} for i, ts in zip(account_ids, tag_rows, strict=True) for t in ts
    ]
    if tags:
        session.execute(insert(AccountTag), tags)
    session.execute(
        insert(ExternalId),
        [
            {"entity": "account", "entity_id": i, "system": "demo", "value": f"D{s.index + 1:05d}"}
            for i, s in zip(account_ids, stories, strict=True)
        ],
    )

    contact_count = _contacts(session, rng, account_ids, domain_rows)
    step("contacts", contact_count)
    contract_ids, movement_count = _contracts(session, stories, account_ids)
    step("contracts", len(contract_ids))
    deal_count = _deals(session, rng, stories, account_rows, account_ids, contract_ids, csm_ids)
    step("deals", deal_count)
    _duplicates_from_crm(session, rng, account_rows[: max(1, n_accounts // 150)])
    record_many(
        session,
        DEMO,
        [
            {
                "action": "create",
                "entity": "account",
                "entity_id": i,
                "before": None,
                "after": {"name": row["name"]},
            }
            for i, row in zip(account_ids, account_rows, strict=True)
        ],
    )
    return DemoResult(
        len(account_ids), contact_count, len(contract_ids), movement_count, deal_count, admin_email
    )


def _contacts(
    session: Session, rng: random.Random, account_ids: list[int], domains: list[str]
) -> int:
    rows = []
    for account_id, domain in zip(account_ids, domains, strict=True):
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
                    "phone": f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                    "title": rng.choice(v.TITLES_BY_ROLE[role]),
                    "role": role,
                    "is_key_person": role in ("decision_maker", "project_leader"),
                    "custom": {},
                }
            )
    session.execute(insert(Contact), rows)
    return len(rows)


def _contracts(
    session: Session, stories: list[AccountStory], account_ids: list[int]
) -> tuple[list[int], int]:
    rows = []
    for story, account_id in zip(stories, account_ids, strict=True):
        final = story.final
        end = next((m.end_date for m in reversed(story.movements) if m.end_date), None)
        if final.status_after == "churned":
            end = final.on
        rows.append(
            {
                "account_id": account_id,
                "plan": v.PLANS[story.segment],
                "mrr": final.mrr_after,
                "currency": "JPY",
                "seats": final.seats_after,
                "start_date": story.start,
                "end_date": end,
                "auto_renew": True,
                "status": final.status_after,
                "custom": {},
            }
        )
    contract_ids = _insert(session, Contract, rows)
    movement_rows = []
    for story, account_id, contract_id in zip(stories, account_ids, contract_ids, strict=True):
        mrr_before, seats_before, plan = 0, None, v.PLANS[story.segment]
        for m in story.movements:
            movement_rows.append(
                {
                    "contract_id": contract_id,
                    "account_id": account_id,
                    "effective_date": m.on,
                    "kind": m.kind,
                    "mrr_before": mrr_before,
                    "mrr_after": m.mrr_after,
                    "seats_before": seats_before,
                    "seats_after": m.seats_after,
                    "status_after": m.status_after,
                    "plan_after": plan,
                    "reason": m.reason,
                    "actor": DEMO.label,
                }
            )
            mrr_before = m.mrr_after if m.status_after == "active" else 0
            seats_before = m.seats_after
    session.execute(insert(ContractMovement), movement_rows)
    return contract_ids, len(movement_rows)


def _deals(
    session: Session,
    rng: random.Random,
    stories: list[AccountStory],
    account_rows: list[dict[str, Any]],
    account_ids: list[int],
    contract_ids: list[int],
    csm_ids: list[int],
) -> int:
    rows = []
    for story, row, account_id, contract_id in zip(
        stories, account_rows, account_ids, contract_ids, strict=True
    ):
        inquiry = story.start - timedelta(days=rng.randint(14, 120))
        rows.append(
            {
                "title": f"{row['name']} 導入検討",
                "account_id": account_id,
                "company_name": row["name"],
                "source_channel": row["source"],
                "company_size": story.company_size,
                "problem": rng.choice(v.PROBLEMS),
                "budget": story.movements[0].mrr_after * 12,
                "currency": "JPY",
                "expected_mrr": story.movements[0].mrr_after,
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
    lost_keys = ["price", "competitor", "feature_gap", "no_budget", "timing", "internal_decision"]
    archived_keys = ["no_response", "not_target", "duplicate"]
    used: set[str] = set()
    for _ in range(int(len(stories) * 0.8)):
        industry = rng.choice(list(v.INDUSTRIES))
        name, _kana, _domain = _company(rng, industry, used)
        inquiry = _between(rng, HISTORY_START - timedelta(days=60), TODAY)
        roll = rng.random()
        if roll < 0.55:
            stage, reason = "lost", rng.choice(lost_keys)
        elif roll < 0.8:
            stage, reason = "archived", rng.choice(archived_keys)
        else:
            stage, reason = (
                rng.choice(("inquiry", "first_meeting", "proposal", "negotiation")),
                None,
            )
        closed = (
            None if reason is None else min(TODAY, inquiry + timedelta(days=rng.randint(10, 90)))
        )
        segment = rng.choices(("SMB", "Mid-Market", "Enterprise"), weights=(60, 30, 10))[0]
        expected = _round_mrr(rng.uniform(10_000, 400_000))
        rows.append(
            {
                "title": f"{name} お問い合わせ",
                "account_id": None,
                "company_name": name,
                "source_channel": rng.choice(v.SOURCES),
                "company_size": rng.choice(v.SIZES_BY_SEGMENT[segment]),
                "problem": rng.choice(v.PROBLEMS),
                "budget": expected * 12 if rng.random() < 0.7 else None,
                "currency": "JPY",
                "expected_mrr": expected,
                "story": rng.choice(v.STORIES),
                "stage_key": stage,
                "lost_reason_key": reason,
                "lost_reason_text": v.LOST_NOTES[reason] if reason else None,
                "owner_id": rng.choice(csm_ids),
                "inquiry_date": inquiry,
                "expected_close_date": inquiry + timedelta(days=60),
                "closed_date": closed,
                "custom": {},
            }
        )
    session.execute(insert(Deal), rows)
    return len(rows)


def _duplicates_from_crm(
    session: Session, rng: random.Random, originals: list[dict[str, Any]]
) -> None:
    """A few accounts entered again from an old CRM export, spelled differently and without
    a domain, as old CRM records are (something for identity resolution to find)."""
    rows = []
    for row in originals:
        core = row["name"].replace("株式会社", "").replace("合同会社", "").replace("有限会社", "")
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
    session.execute(
        insert(ExternalId),
        [
            {"entity": "account", "entity_id": i, "system": "old_crm", "value": f"OLD-{n:04d}"}
            for n, i in enumerate(ids)
        ],
    )
