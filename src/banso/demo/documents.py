"""The demo's written documents, telling the same story as each account's contract and usage.

For every demo account (see :func:`banso.demo.generator.stories_by_account`) this writes, in
Japanese, what a CS team would have written over its history, and nothing dated after the
demo's today except meetings planned ahead and tasks due later:

- the first hearing (初回ヒアリング) and a kickoff meeting when it started; a trial review
  for a trial; regular meetings (定例) every quarter or half-year, with calls, e-mails, notes and
  hearings between them, and troubles (トラブル) now and then, almost all resolved;
- before each expansion, a hearing and a meeting about adding seats; before a contraction, a
  hearing about it; a note when a pause starts and ends;
- when usage falls (``decline_start`` of an ``at_risk`` or ``churned`` story): a note on the
  drop, calls, a hearing about why, a meeting about it and tasks, some of them now overdue;
- for a churned account (a lost trial and an account that churned and came back included), a
  meeting about the renewal and a cancellation interview (解約ヒアリング) near the churn date,
  its reasons drawn from the taxonomy (``banso.timeline.reasons``) to match the story's reason;
- tasks from the TODOs of held meetings and a few made by hand, assigned to the owning CSM;
- for a share of accounts, the four-layer profile and the profiles of its key people; a
  handful of observation sessions; the team's knowledge pages (principles, playbooks, templates).

Rows are bulk-inserted, then the search index is rebuilt from them once
(:func:`banso.search.documents.reindex`, each capability describing its own documents), and
each account draws from a ``random.Random`` of its own, so the same demo gives the same
documents. Revisions are not written: the first edit of a document records its base revision.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.auth.models import User
from banso.deals.models import Deal
from banso.demo import document_vocabulary as w
from banso.demo.generator import _insert, _insert_plain, demo_run, stories_by_account
from banso.demo.story import AccountStory
from banso.documents.markdown import mentions
from banso.knowledge.models import KnowledgePage, KnowledgeTag
from banso.meetings.models import Meeting, MeetingItem, MeetingReview, ReviewComment
from banso.observations.models import ObservationMoment, ObservationSession
from banso.profiles.models import AccountProfile, ContactProfile
from banso.search.documents import reindex
from banso.tasks.models import Task
from banso.timeline.models import Mention, TimelineEntry

JST = timezone(timedelta(hours=9))
# The steps :func:`generate_documents` reports to its ``progress`` callback, in order.
PHASES = (
    "knowledge",
    "plan",
    "timeline",
    "meetings",
    "tasks",
    "profiles",
    "observations",
    "search",
)
Progress = Callable[[str, int], None]
MENTION_ODDS = 0.35
RECENT_TROUBLE_ODDS = 0.05  # an active account with a trouble in the last ten days
TODO_ODDS = 0.6  # the share of an agenda item's usual TODOs a meeting actually gives
# Timeline entries between meetings, per month of contract, by segment.
ENTRIES_PER_MONTH = {"SMB": 0.25, "Mid-Market": 0.45, "Enterprise": 0.8}
TROUBLES_PER_YEAR = {"SMB": 0.5, "Mid-Market": 0.9, "Enterprise": 1.5}
PROFILE_ODDS = {"SMB": 0.2, "Mid-Market": 0.45, "Enterprise": 0.75}
_SEVERITIES = ("low", "medium", "high", "critical")
_ROUTINE = (("call", w.CALLS), ("email", w.EMAILS), ("hearing", w.HEARINGS), ("note", w.NOTES))
_ROUTINE_WEIGHTS = (35, 30, 20, 15)


@dataclass
class DocumentsResult:
    entries: int = 0
    troubles: int = 0
    cancellation_interviews: int = 0
    mentions: int = 0
    meetings: int = 0
    items: int = 0
    reviews: int = 0
    comments: int = 0
    tasks: int = 0
    account_profiles: int = 0
    contact_profiles: int = 0
    observations: int = 0
    moments: int = 0
    pages: int = 0
    indexed: int = 0


@dataclass
class _Person:
    id: int
    name: str
    role: str


@dataclass
class _Account:
    id: int
    name: str
    owner_id: int | None
    story: AccountStory
    people: list[_Person]
    problem: str
    goal: str
    story_text: str

    def by_role(self, *roles: str) -> _Person:
        return next((p for p in self.people if p.role in roles), self.people[0])


@dataclass
class _Meeting:
    """A meeting with its items, each item's TODOs, and its reviews, before ids exist."""

    row: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    todos: list[list[tuple[str, str]]] = field(default_factory=list)
    reviews: list[tuple[dict[str, Any], list[tuple[int | None, dict[str, Any]]]]] = field(
        default_factory=list
    )


def generate_documents(session: Session, progress: Progress | None = None) -> DocumentsResult:
    """Write the documents of the demo in the database (nothing if there is no demo)."""
    step = progress or (lambda _label, _n: None)
    run = demo_run(session)
    result = DocumentsResult()
    if run is None:
        return result
    builder = _Builder(session, run.seed, run.today)
    result.pages = builder.knowledge()
    step("knowledge", result.pages)
    accounts = builder.accounts()
    for account in accounts:
        builder.account(account)
    builder.observations(accounts)
    step("plan", len(accounts))
    builder.write(result, step)
    return result


class _Builder:
    def __init__(self, session: Session, seed: int, today: date) -> None:
        self.session = session
        self.seed = seed
        self.today = today
        self.end_of_today = datetime.combine(today, time(23, 59), tzinfo=JST)
        self.rng = random.Random(f"banso-demo-docs:{seed}")
        users = session.execute(select(User.id, User.name, User.role).order_by(User.id)).all()
        self.user_names = {uid: name for uid, name, _ in users}
        self.csms = [uid for uid, _, role in users if role == "csm"]
        self.manager = next((uid for uid, _, role in users if role == "manager"), None)
        self.admin = next((uid for uid, _, role in users if role == "admin"), None)
        self.reason_keys = _reasons(session)
        self.templates: dict[str, int] = {}
        self.by_id: dict[int, _Account] = {}
        self.entries: list[dict[str, Any]] = []
        self.meetings: list[_Meeting] = []
        self.tasks: list[dict[str, Any]] = []
        self.profiles: list[dict[str, Any]] = []
        self.contact_profiles: list[dict[str, Any]] = []
        self.sessions: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []

    # ------------------------------------------------------------ reading the demo

    def accounts(self) -> list[_Account]:
        stories = stories_by_account(self.session)
        if not stories:
            return []
        people: dict[int, list[_Person]] = {}
        for contact_id, account_id, name, role in self.session.execute(
            select(Contact.id, Contact.account_id, Contact.name, Contact.role).order_by(Contact.id)
        ):
            if account_id in stories:
                people.setdefault(account_id, []).append(_Person(contact_id, name, role or "user"))
        deals = {
            account_id: (problem, text)
            for account_id, problem, text in self.session.execute(
                select(Deal.account_id, Deal.problem, Deal.story).where(
                    Deal.stage_key == "won", Deal.account_id.is_not(None)
                )
            )
        }
        accounts = []
        for account_id, name, owner_id, custom in self.session.execute(
            select(Account.id, Account.name, Account.owner_id, Account.custom).order_by(Account.id)
        ):
            story = stories.get(account_id)
            if story is None or not people.get(account_id):
                continue
            problem, text = deals.get(account_id, (None, None))
            accounts.append(
                _Account(
                    account_id,
                    name,
                    owner_id,
                    story,
                    people[account_id],
                    problem or w.GOALS[0],
                    (custom or {}).get("purpose") or w.GOALS[story.index % len(w.GOALS)],
                    text or "",
                )
            )
        accounts.sort(key=lambda a: a.story.index)
        self.by_id = {a.id: a for a in accounts}
        return accounts

    # ------------------------------------------------------------ knowledge pages

    def knowledge(self) -> int:
        taken = set(self.session.scalars(select(KnowledgePage.slug)))
        wanted = [p for p in w.PAGES if p[0] not in taken]
        author = self.manager or self.admin
        rows: list[dict[str, Any]] = []
        for n, (slug, title, kind, is_template, _tags, body) in enumerate(wanted):
            created = self._at(self.today - timedelta(days=400 - n * 17))
            updated = self._at(self.today - timedelta(days=5 + n * 11))
            rows.append(
                {
                    "slug": slug,
                    "title": title,
                    "kind": kind,
                    "body": body,
                    "is_template": is_template,
                    "is_archived": False,
                    "author_id": author,
                    "updated_by_id": self.csms[n % len(self.csms)] if self.csms else author,
                    "created_at": created,
                    "updated_at": updated,
                }
            )
        ids = _insert_ids(self.session, KnowledgePage, rows)
        _insert_plain(
            self.session,
            KnowledgeTag,
            [
                {"page_id": page_id, "tag": tag}
                for page_id, page in zip(ids, wanted, strict=True)
                for tag in page[4]
            ],
        )
        self.templates = dict(
            self.session.execute(
                select(KnowledgePage.slug, KnowledgePage.id).where(
                    KnowledgePage.is_template.is_(True)
                )
            ).all()
        )
        return len(rows)

    # ------------------------------------------------------------ one account's history

    def account(self, a: _Account) -> None:
        s = a.story
        self.rng = random.Random(f"banso-demo-docs:{self.seed}:{s.index}")
        self.a = a
        live = s.live_from or s.start
        if s.kind in ("trial", "trial_lost") or live != s.start:
            self._trial(a)
        if s.kind == "trial_lost":
            self._cancellation(a, s.churn_date or s.start, "トライアル後に見送り")
            return
        if s.kind == "trial":
            return
        self._entry("hearing", live + timedelta(days=self.rng.randint(1, 5)), w.ONBOARDING_HEARINGS)
        if s.segment != "SMB" or self.rng.random() < 0.6:
            self._meeting("kickoff", live + timedelta(days=self.rng.randint(4, 12)), w.KICKOFF)
        quiet = self._quiet(s)
        ending = s.churn_date if s.kind == "churned" else None
        busy_until = min(d for d in (s.decline_start, ending, self.today) if d is not None)
        self._routine(a, live + timedelta(days=25), busy_until, quiet)
        self._regular_meetings(a, live, busy_until, quiet)
        for movement_at, before, after, reason in _moves(s, "expansion"):
            hearing = movement_at - timedelta(days=self.rng.randint(30, 45))
            self._entry(
                "hearing",
                hearing,
                w.EXPANSION_HEARINGS[:1],
                reason=reason,
                seats=before,
                added=after - before,
            )
            self._meeting(
                "expansion",
                movement_at - timedelta(days=self.rng.randint(10, 25)),
                w.EXPANSION,
                added=after - before,
            )
        for movement_at, _before, _after, reason in _moves(s, "contraction"):
            if reason != "改装のため休止":
                day = movement_at - timedelta(days=self.rng.randint(5, 20))
                self._entry("hearing", day, w.CONTRACTION_HEARINGS, reason=reason)
        for paused, resumed in s.pauses:
            self._entry("note", paused - timedelta(days=self.rng.randint(3, 10)), w.PAUSE_NOTES[:1])
            self._entry("note", resumed + timedelta(days=self.rng.randint(0, 5)), w.PAUSE_NOTES[1:])
        for churned_on, back, reason in _churns_undone(s):
            self._cancellation(a, churned_on, reason)
            self._entry("note", back - timedelta(days=self.rng.randint(0, 7)), w.REACTIVATION_NOTES)
        if s.decline_start is not None:
            self._decline(a, s.decline_start, ending or s.renewal_date or self.today)
        if s.kind == "churned" and s.churn_date is not None:
            reason = s.final.reason or "現場で定着せず利用が減少"
            self._cancellation(a, s.churn_date, reason)
        if s.status == "active":
            self._manual_tasks(a)
            if self.rng.random() < RECENT_TROUBLE_ODDS:
                self._trouble(self.today - timedelta(days=self.rng.randint(0, 10)), fresh=True)
        if self.rng.random() < PROFILE_ODDS[s.segment]:
            self._profile(a)

    def _trial(self, a: _Account) -> None:
        s = a.story
        self._entry("hearing", s.start + timedelta(days=self.rng.randint(1, 3)), w.TRIAL_HEARINGS)
        review = (s.live_from or s.churn_date or self.today) - timedelta(
            days=self.rng.randint(2, 5)
        )
        if s.kind == "trial":
            review = self.today + timedelta(days=self.rng.randint(2, 9))
        self._meeting("trial", max(review, s.start + timedelta(days=7)), w.TRIAL_REVIEW)

    def _quiet(self, s: AccountStory) -> list[tuple[date, date]]:
        """Intervals without routine contact: pauses and time between a churn and a return."""
        return list(s.pauses) + [(c, b) for c, b, _ in _churns_undone(s)]

    def _routine(self, a: _Account, start: date, end: date, quiet: list[tuple[date, date]]) -> None:
        months = max(0.0, (end - start).days / 30.4)
        count = _poisson(self.rng, months * ENTRIES_PER_MONTH[a.story.segment])
        for _ in range(count):
            day = _between(self.rng, start, end)
            if any(q0 <= day <= q1 for q0, q1 in quiet):
                continue
            kind, templates = self.rng.choices(_ROUTINE, weights=_ROUTINE_WEIGHTS)[0]
            self._entry(kind, day, templates)
        troubles = _poisson(self.rng, months / 12 * TROUBLES_PER_YEAR[a.story.segment])
        for _ in range(troubles):
            day = _between(self.rng, start - timedelta(days=15), end)
            if not any(q0 <= day <= q1 for q0, q1 in quiet):
                self._trouble(day)

    def _regular_meetings(
        self, a: _Account, live: date, end: date, quiet: list[tuple[date, date]]
    ) -> None:
        s = a.story
        gap, keep = {"SMB": (365, 0.6), "Mid-Market": (180, 1.0), "Enterprise": (90, 1.0)}[
            s.segment
        ]
        day = live + timedelta(days=gap + self.rng.randint(-15, 15))
        while day <= end:
            if self.rng.random() < keep and not any(q0 <= day <= q1 for q0, q1 in quiet):
                self._meeting("regular", day, self._regular_items())
            day += timedelta(days=gap + self.rng.randint(-20, 20))
        # The next one is planned already for a healthy customer.
        if s.status == "active" and s.decline_start is None and self.rng.random() < 0.35:
            self._meeting(
                "regular",
                self.today + timedelta(days=self.rng.randint(1, 21)),
                self._regular_items(),
            )

    def _regular_items(self) -> tuple[w.Item, ...]:
        picked = sorted(self.rng.sample(range(len(w.REGULAR)), self.rng.choice((2, 3, 3))))
        return tuple(w.REGULAR[i] for i in picked)

    def _decline(self, a: _Account, start: date, end: date) -> None:
        """Usage falls from ``start``; the team notices, asks, meets, and (maybe) fails."""
        rng = self.rng
        if rng.random() < 0.5:
            self._trouble(start - timedelta(days=rng.randint(5, 30)), severe=True)
        noticed = start + timedelta(days=rng.randint(10, 25))
        days_left = (end - noticed).days
        self._entry(
            "note", noticed, w.DECLINE_NOTES, drop=rng.choice((30, 40, 45, 50)), days=days_left
        )
        self._entry("call", noticed + timedelta(days=rng.randint(2, 6)), w.DECLINE_CALLS[:1])
        reason_hint = {
            "担当者の退職で推進者不在": "推進役だった方が退職されたとのこと。",
            "競合サービスへ乗り換え": "他社サービスの提案を受けているらしい。",
            "価格見直しの結果、解約": "社内でコスト削減の号令が出ている。",
            "事業縮小のため": "店舗の統廃合が検討されている。",
        }.get(a.story.final.reason or "", "")
        self._entry(
            "hearing",
            noticed + timedelta(days=rng.randint(8, 18)),
            w.DECLINE_HEARINGS[1:] if reason_hint else w.DECLINE_HEARINGS[:1],
            reason_hint=reason_hint,
        )
        risk_day = noticed + timedelta(days=rng.randint(20, 35))
        if a.story.kind == "churned":
            self._entry("call", end - timedelta(days=rng.randint(35, 50)), w.DECLINE_CALLS[1:])
            self._meeting("churn", end - timedelta(days=rng.randint(14, 28)), w.CHURN_MEETING)
            risk_day = min(risk_day, end - timedelta(days=40))
        elif risk_day > self.today:
            risk_day = self.today + timedelta(days=rng.randint(2, 14))
        self._meeting("risk", risk_day, w.RENEWAL_RISK)
        if a.story.kind == "at_risk":
            for title, description, owner_type in w.RISK_TASKS:
                due = self.today + timedelta(days=rng.randint(-12, 7))
                self._task(a, title, description, owner_type, due, noticed, "manual")

    def _cancellation(self, a: _Account, churned_on: date, reason: str) -> None:
        keys_wanted, said, hypothesis, improvement = w.CANCELLATIONS.get(
            reason, w.CANCELLATIONS["現場で定着せず利用が減少"]
        )
        keys = [k for k in keys_wanted if k in self.reason_keys][:2]
        if not keys and self.reason_keys:
            keys = [self.reason_keys[-1]]
        if len(keys) == 2 and self.rng.random() < 0.5:
            keys = keys[:1]
        day = churned_on + timedelta(days=self.rng.randint(-14, 3))
        contact = a.by_role("decision_maker") if "{boss}" in said else a.by_role("project_leader")
        fields = self._fields(contact, churn=f"{churned_on.month}月{churned_on.day}日")
        body = said.format(**fields) + "\n\n" + w.CANCELLATION_SIGN.format(**fields)
        self._add_entry(
            "cancellation_interview",
            day,
            f"解約ヒアリング:{reason}",
            body,
            contact,
            reason_keys=keys,
            hypothesis=hypothesis,
            improvement=improvement,
        )

    def _manual_tasks(self, a: _Account) -> None:
        if self.rng.random() >= 0.3:
            return
        title, description, owner_type = self.rng.choice(w.MANUAL_TASKS)
        due = self.today + timedelta(days=self.rng.randint(-20, 30))
        created = due - timedelta(days=self.rng.randint(7, 21))
        # The CS lead (the demo's sign-in) follows some accounts up in person, so that their
        # "my tasks" shows what a CSM's would.
        lead = self.admin if self.admin is not None and self.rng.random() < 0.15 else None
        self._task(a, title, description, owner_type, due, created, "manual", assignee=lead)

    def _profile(self, a: _Account) -> None:
        s, rng = a.story, self.rng
        industry = s.industry
        feelings: tuple[str, ...]
        if s.kind in ("at_risk", "churned"):
            feelings = w.FEELINGS_BAD
        elif s.kind in ("contracting", "paused"):
            feelings = w.FEELINGS_MIXED
        else:
            feelings = w.FEELINGS_GOOD + w.FEELINGS_MIXED[:1]
        at = self._at(
            min(self.today, (s.live_from or s.start) + timedelta(days=rng.randint(20, 60)))
        )
        self.profiles.append(
            {
                "account_id": a.id,
                "industry_context": rng.choice(w.INDUSTRY_CONTEXT.get(industry, ("",))),
                "business_goals": f"{a.goal}\n\n{a.story_text}".strip(),
                "rhythm": rng.choice(w.RHYTHM.get(industry, ("",))),
                "feelings": rng.choice(feelings),
                "updated_by_id": a.owner_id,
                "created_at": at,
                "updated_at": at,
            }
        )
        for person in a.people:
            if person.role not in w.STRENGTHS:
                continue
            self.contact_profiles.append(
                {
                    "contact_id": person.id,
                    "account_id": a.id,
                    "it_literacy": rng.choice((2, 3, 3, 4, 4, 5))
                    if person.role == "project_leader"
                    else rng.choice((1, 2, 2, 3, 4)),
                    "strengths": rng.choice(w.STRENGTHS[person.role]),
                    "motivation": rng.choice(w.MOTIVATIONS[person.role]),
                    "notes": rng.choice(w.CONTACT_NOTES),
                    "updated_by_id": a.owner_id,
                    "created_at": at,
                    "updated_at": at,
                }
            )

    # ------------------------------------------------------------ observation sessions

    def observations(self, accounts: list[_Account]) -> None:
        rng = random.Random(f"banso-demo-observations:{self.seed}")
        eligible = [
            a
            for a in accounts
            if a.story.live_from and a.story.live_from + timedelta(days=20) <= self.today
        ]
        count = min(len(eligible), max(3, min(25, len(accounts) // 60)))
        for a in sorted(rng.sample(eligible, count), key=lambda a: a.story.index):
            live = a.story.live_from or a.story.start
            held = self._at(min(self.today, live + timedelta(days=rng.randint(14, 45))), rng)
            role = rng.choice(w.OBSERVATION_ROLES)
            person = a.by_role("power_user", "project_leader")
            keep, problem, try_next = rng.choice(w.KPT)
            moments = sorted(rng.sample(range(len(w.MOMENTS)), rng.randint(3, 6)))
            url = f"https://recordings.example.com/banso-demo/{a.story.index + 1:05d}"
            second = 0
            moment_rows = []
            for n in moments:
                step, screen, kind, note, severity = w.MOMENTS[n]
                second += rng.randint(40, 400)
                moment_rows.append(
                    {
                        "kind": kind,
                        "step": step,
                        "screen": screen,
                        "note": note,
                        "severity": severity,
                        "at_seconds": second,
                        "recording_url": None,
                        "created_by_id": a.owner_id,
                        "created_at": held + timedelta(seconds=second),
                    }
                )
            self.sessions.append(
                (
                    {
                        "account_id": a.id,
                        "title": f"操作観察:{role}による初期設定と予約管理",
                        "held_at": held,
                        "customer_role": f"{role}({person.name}様)",
                        "contact_id": person.id,
                        "observer_id": a.owner_id,
                        "recording_url": url,
                        "keep": keep,
                        "problem": problem,
                        "try_next": try_next,
                        "created_at": held,
                        "updated_at": held + timedelta(hours=2),
                    },
                    moment_rows,
                )
            )

    # ------------------------------------------------------------ building rows

    def _at(self, day: date, rng: random.Random | None = None) -> datetime:
        r = rng or self.rng
        return datetime.combine(day, time(r.randint(9, 17), r.choice((0, 15, 30, 45))), tzinfo=JST)

    def _name(self, person: _Person) -> str:
        if self.rng.random() < MENTION_ODDS:
            return f"@[{person.name}](contact:{person.id})様"
        return f"{person.name}様"

    def _fields(self, contact: _Person, **extra: Any) -> dict[str, Any]:
        a = self.a
        boss, leader = a.by_role("decision_maker"), a.by_role("project_leader")
        manager = self.manager
        months = max(1, ((self.today - (a.story.live_from or a.story.start)).days) // 30)
        return {
            "company": a.name,
            "contact": self._name(contact),
            "boss": self._name(boss) if boss is not contact else f"{boss.name}様",
            "leader": self._name(leader) if leader is not contact else f"{leader.name}様",
            "csm": self.user_names.get(a.owner_id or 0, "担当CSM"),
            "manager": f"@[{self.user_names[manager]}](user:{manager})" if manager else "",
            "problem": a.problem,
            "goal": a.goal,
            "story": a.story_text,
            "rhythm": self.rng.choice(w.RHYTHM.get(a.story.industry, ("平日の日中",))),
            "rhythm_short": "土日は繁忙の" if a.story.industry != "IT" else "週末は避けたい",
            "months": months,
            "reason": "",
            "reason_hint": "",
            "seats": a.story.final.seats_after,
            "added": 5,
            "drop": 40,
            "days": 60,
        } | extra

    def _entry(
        self,
        kind: str,
        day: date,
        templates: tuple[tuple[str, str], ...],
        **extra: Any,
    ) -> None:
        a = self.a
        if day > self.today or day < a.story.start:
            return
        title, body = self.rng.choice(templates)
        contact = self.rng.choice(a.people[:3])
        fields = self._fields(contact, **extra)
        self._add_entry(kind, day, title.format(**fields), body.format(**fields), contact)

    def _add_entry(
        self, kind: str, day: date, title: str, body: str, contact: _Person, **columns: Any
    ) -> None:
        if day > self.today:
            day = self.today
        at = columns.pop("at", None) or self._at(day)
        self.entries.append(
            {
                "account_id": self.a.id,
                "kind": kind,
                "title": title,
                "body": body,
                "occurred_at": at,
                "author_id": self.a.owner_id,
                "contact_id": contact.id,
                "severity": None,
                "status": None,
                "resolution": None,
                "resolved_at": None,
                "reason_keys": [],
                "hypothesis": None,
                "improvement": None,
                "details": {},
                "created_at": at,
                "updated_at": columns.pop("updated_at", at),
            }
            | columns
        )

    def _trouble(self, day: date, *, severe: bool = False, fresh: bool = False) -> None:
        """A trouble on ``day``; a ``fresh`` one is likelier still open."""
        a, rng = self.a, self.rng
        if day > self.today or day < a.story.start:
            return
        title, body, resolution, weights, (low, high) = rng.choice(w.TROUBLES)
        if severe:
            weights = (0, weights[1] + 1, weights[2] + 2, weights[3])
        severity = rng.choices(_SEVERITIES, weights=weights)[0]
        contact = a.by_role("project_leader", "power_user")
        fields = self._fields(contact)
        at = self._at(day)
        hours = rng.uniform(low, high) * (0.5 if severity in ("high", "critical") else 1.0)
        resolved: datetime | None = at + timedelta(hours=round(hours, 1))
        recent = (self.today - day).days <= 10
        status = "resolved"
        still_open = recent and rng.random() < (0.7 if fresh else 0.5)
        if resolved is not None and (resolved > self.end_of_today or still_open):
            status, resolved = rng.choice(("open", "in_progress")), None
        text = body.format(**fields)
        if status != "resolved":
            text += "\n\n" + w.OPEN_TROUBLE_NOTE.format(**fields)
        self._add_entry(
            "trouble",
            day,
            title,
            text,
            contact,
            severity=severity,
            status=status,
            resolution=resolution if resolved else None,
            resolved_at=resolved,
            updated_at=resolved or at,
            at=at,
        )

    def _meeting(self, kind: str, day: date, items: tuple[w.Item, ...], **extra: Any) -> None:
        a, rng = self.a, self.rng
        if day < a.story.start:
            return
        planned = day > self.today
        if planned and (a.story.status != "active" and a.story.kind != "trial"):
            return
        at = datetime.combine(day, time(rng.choice((10, 11, 13, 14, 15, 16))), tzinfo=JST)
        boss, leader = a.by_role("decision_maker"), a.by_role("project_leader")
        fields = self._fields(leader, **extra)
        csm = self.user_names.get(a.owner_id or 0, "")
        attendees = f"{a.name}:{leader.name}様" + (
            f"、{boss.name}様" if kind in ("kickoff", "risk", "expansion", "churn") else ""
        )
        template = {
            "regular": "template-regular-meeting",
            "risk": "template-renewal-meeting",
            "expansion": "template-expansion-proposal",
        }.get(kind)
        held_at = at + timedelta(hours=1) if not planned else None
        closed_at = None
        status = "planned"
        if held_at is not None:
            status = "closed" if (self.today - day).days > 7 and rng.random() < 0.85 else "held"
            if status == "closed":
                closed_at = held_at + timedelta(days=rng.randint(0, 2))
        written = self._at(self.today - timedelta(days=rng.randint(0, 6)))
        created = min(at - timedelta(days=rng.randint(3, 14)), written)
        meeting = _Meeting(
            {
                "account_id": a.id,
                "title": w.MEETING_TITLES[kind],
                "scheduled_at": at,
                "status": status,
                "location": rng.choice(w.LOCATIONS),
                "attendees": f"{attendees}\n弊社:{csm}",
                "purpose": w.MEETING_PURPOSES[kind],
                "summary": "" if planned else rng.choice(w.MEETING_SUMMARIES).format(**fields),
                "owner_id": a.owner_id,
                "template_page_id": self.templates.get(template or ""),
                "held_at": held_at,
                "closed_at": closed_at,
                "created_at": min(created, self.end_of_today),
                "updated_at": closed_at or held_at or min(created, self.end_of_today),
            }
        )
        for position, (topic, hypothesis, view, decision, todos) in enumerate(items):
            meeting.items.append(
                {
                    "position": position,
                    "topic": topic.format(**fields),
                    "hypothesis": hypothesis.format(**fields),
                    "customer_view": "" if planned else view.format(**fields),
                    "decision": "" if planned else decision.format(**fields),
                    "created_at": meeting.row["created_at"],
                    "updated_at": meeting.row["updated_at"],
                }
            )
            kept = [t for t in todos if rng.random() < TODO_ODDS]
            meeting.todos.append([] if planned else kept)
        self._reviews(meeting, at, planned)
        self.meetings.append(meeting)

    def _reviews(self, meeting: _Meeting, at: datetime, planned: bool) -> None:
        """A review asked of a colleague: open for a planned meeting, approved for a past one."""
        rng, owner = self.rng, self.a.owner_id
        if rng.random() >= (0.4 if planned else 0.12):
            return
        others = [u for u in self.csms if u != owner]
        pool = [u for u in (self.manager, self.admin) if u is not None]
        candidates = pool if (pool and rng.random() < 0.7) or not others else others
        if not candidates:
            return
        reviewer = rng.choice(candidates)
        asked = min(at - timedelta(days=rng.randint(1, 4)), self.end_of_today - timedelta(hours=2))
        asked = max(asked, meeting.row["created_at"])
        message = rng.choice(w.REVIEW_REQUESTS).format(title=meeting.row["title"])
        comments: list[tuple[int | None, dict[str, Any]]] = []
        decided: datetime | None = None
        status = "requested"
        if not planned:
            status, decided = "approved", min(at - timedelta(hours=3), asked + timedelta(hours=20))
            decided = max(decided, asked + timedelta(minutes=30))
        if not planned or rng.random() < 0.4:
            item = rng.randrange(len(meeting.items))
            said = asked + timedelta(minutes=rng.randint(20, 300))
            if decided is not None:
                said = min(said, decided)
            comments.append(
                (
                    item,
                    {
                        "author_id": reviewer,
                        "body": rng.choice(w.REVIEW_COMMENTS),
                        "created_at": min(said, self.end_of_today),
                    },
                )
            )
        meeting.reviews.append(
            (
                {
                    "reviewer_id": reviewer,
                    "requested_by_id": owner,
                    "message": message,
                    "status": status,
                    "requested_at": asked,
                    "due_at": at - timedelta(hours=18),
                    "decided_at": decided,
                },
                comments,
            )
        )

    def _task(
        self,
        a: _Account,
        title: str,
        description: str,
        owner_type: str,
        due: date,
        created_on: date,
        source: str,
        assignee: int | None = None,
        **links: Any,
    ) -> None:
        rng = self.rng
        overdue_by = (self.today - due).days
        if overdue_by > 10:
            status = rng.choices(("done", "cancelled", "open"), weights=(93, 5, 2))[0]
        elif overdue_by > 0:
            status = rng.choices(("done", "in_progress", "open"), weights=(45, 25, 30))[0]
        else:
            status = rng.choices(("open", "in_progress", "done"), weights=(60, 30, 10))[0]
        churned = a.story.churn_date if a.story.kind == "churned" else None
        if churned is not None and status != "done":
            status = "done" if due <= churned else "cancelled"
        created = self._at(min(created_on, self.today))
        completed = None
        if status == "done":
            finished = min(self.today, due - timedelta(days=rng.randint(-3, 4)))
            completed = max(created + timedelta(hours=2), self._at(finished))
            completed = min(completed, self.end_of_today)
        fields = self._fields(a.by_role("project_leader"))
        self.tasks.append(
            {
                "account_id": a.id,
                "title": title,
                "description": description.format(**fields),
                "owner_type": owner_type,
                "assignee_id": assignee or a.owner_id,
                "contact_id": a.by_role("project_leader").id if owner_type != "us" else None,
                "due_date": due,
                "status": status,
                "source": source,
                "source_ref": None,
                "meeting_id": None,
                "meeting_item_id": None,
                "created_by_id": a.owner_id,
                "completed_at": completed,
                "reminded_for": None,
                "created_at": created,
                "updated_at": completed or created,
            }
            | links
        )

    # ------------------------------------------------------------ writing

    def write(self, result: DocumentsResult, step: Progress) -> None:
        session = self.session
        entry_ids = _insert_ids(session, TimelineEntry, self.entries)
        mention_rows = []
        for entry_id, row in zip(entry_ids, self.entries, strict=True):
            for kind, ident in mentions(row["body"]):
                mention_rows.append(
                    {
                        "entity": "timeline_entry",
                        "entity_id": entry_id,
                        "account_id": row["account_id"],
                        "user_id": ident if kind == "user" else None,
                        "contact_id": ident if kind == "contact" else None,
                    }
                )
        _insert_plain(session, Mention, mention_rows)
        result.entries = len(entry_ids)
        result.troubles = sum(r["kind"] == "trouble" for r in self.entries)
        result.cancellation_interviews = sum(
            r["kind"] == "cancellation_interview" for r in self.entries
        )
        result.mentions = len(mention_rows)
        step("timeline", result.entries)

        meeting_ids = _insert_ids(session, Meeting, [m.row for m in self.meetings])
        item_rows = [
            item | {"meeting_id": meeting_id}
            for meeting_id, m in zip(meeting_ids, self.meetings, strict=True)
            for item in m.items
        ]
        item_ids = _insert_ids(session, MeetingItem, item_rows)
        review_rows, comment_rows = [], []
        n = 0
        item_ids_by_meeting: list[list[int]] = []
        for meeting_id, m in zip(meeting_ids, self.meetings, strict=True):
            ids = item_ids[n : n + len(m.items)]
            n += len(m.items)
            item_ids_by_meeting.append(ids)
            for review, _comments in m.reviews:
                review_rows.append(review | {"meeting_id": meeting_id})
        review_ids = _insert_ids(session, MeetingReview, review_rows)
        r = 0
        for meeting_id, m, ids in zip(meeting_ids, self.meetings, item_ids_by_meeting, strict=True):
            for _review, comments in m.reviews:
                for item, comment in comments:
                    comment_rows.append(
                        comment
                        | {
                            "meeting_id": meeting_id,
                            "item_id": ids[item] if item is not None else None,
                            "review_id": review_ids[r],
                        }
                    )
                r += 1
        _insert_plain(session, ReviewComment, comment_rows)
        result.meetings, result.items = len(meeting_ids), len(item_ids)
        result.reviews, result.comments = len(review_ids), len(comment_rows)
        step("meetings", result.meetings)

        self._meeting_tasks(meeting_ids, item_ids_by_meeting)
        task_ids = _insert_ids(session, Task, self.tasks)
        result.tasks = len(task_ids)
        step("tasks", result.tasks)

        _insert_plain(session, AccountProfile, self.profiles)
        _insert_plain(session, ContactProfile, self.contact_profiles)
        result.account_profiles, result.contact_profiles = (
            len(self.profiles),
            len(self.contact_profiles),
        )
        step("profiles", result.account_profiles)

        session_ids = _insert_ids(session, ObservationSession, [s for s, _ in self.sessions])
        moment_rows = [
            moment | {"session_id": session_id}
            for session_id, (_s, moments) in zip(session_ids, self.sessions, strict=True)
            for moment in moments
        ]
        _insert_plain(session, ObservationMoment, moment_rows)
        result.observations, result.moments = len(session_ids), len(moment_rows)
        step("observations", result.observations)

        result.indexed = reindex(session)
        step("search", result.indexed)

    def _meeting_tasks(self, meeting_ids: list[int], item_ids: list[list[int]]) -> None:
        """Each held meeting's TODOs become tasks linked to the meeting and its item."""
        by_id = self.by_id
        for meeting_id, m, ids in zip(meeting_ids, self.meetings, item_ids, strict=True):
            a = by_id[m.row["account_id"]]
            self.rng = random.Random(f"banso-demo-tasks:{self.seed}:{a.story.index}:{len(ids)}")
            self.a = a
            held = m.row["held_at"]
            if held is None:
                continue
            day = held.astimezone(JST).date()
            for item_id, item, todos in zip(ids, m.items, m.todos, strict=True):
                for title, owner_type in todos:
                    due = day + timedelta(days=self.rng.randint(7, 21))
                    self._task(
                        a,
                        title,
                        f"{m.row['title']}「{item['topic']}」より。\n\n決定事項:{item['decision']}",
                        owner_type,
                        due,
                        day,
                        "meeting",
                        meeting_id=meeting_id,
                        meeting_item_id=item_id,
                    )


# ---------------------------------------------------------------- helpers


def _insert_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert returning the new ids in order.

    SQLite runs an INSERT ... RETURNING one row at a time; there the ids are given instead,
    after the largest one (safe: this transaction already holds SQLite's only write lock).
    """
    if not rows or session.get_bind().dialect.name != "sqlite":
        return _insert(session, model, rows)
    table = model.__table__
    first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
    ids = list(range(first, first + len(rows)))
    _insert_plain(session, model, [row | {"id": i} for i, row in zip(ids, rows, strict=True)])
    return ids


def _reasons(session: Session) -> list[str]:
    """The keys of the active cancellation reasons (the defaults written first if none)."""
    from banso.timeline.reasons import all_reasons

    return [r.key for r in all_reasons(session, active_only=True)]


def _moves(s: AccountStory, kind: str) -> list[tuple[date, int, int, str]]:
    """(date, seats before, seats after, reason) of the story's movements of ``kind``."""
    found, seats = [], 0
    for m in s.movements:
        if m.kind == kind:
            found.append((m.on, seats, m.seats_after, m.reason or ""))
        seats = m.seats_after
    return found


def _churns_undone(s: AccountStory) -> list[tuple[date, date, str]]:
    """(churn date, return date, reason) of each churn a reactivation undid."""
    found = []
    for m, nxt in zip(s.movements, s.movements[1:], strict=False):
        if m.kind == "churn" and nxt.kind == "reactivation":
            found.append((m.on, nxt.on, m.reason or "現場で定着せず利用が減少"))
    return found


def _between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth), good enough for the small means used here."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit, k, p = 2.718281828459045 ** (-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
