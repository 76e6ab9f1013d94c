"""The demo's timeline entries, meetings, tasks, profiles, observations and knowledge pages
tell each account's story, date nothing after the demo's today, and are the same for a seed."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.demo import document_vocabulary as w
from banso.demo.cli import _wipe
from banso.demo.documents import JST, DocumentsResult, generate_documents
from banso.demo.generator import DemoResult, generate, stories_by_account
from banso.demo.story import DEFAULT_TODAY
from banso.documents.markdown import mentions
from banso.knowledge.models import KnowledgePage, KnowledgeTag
from banso.meetings.models import Meeting, MeetingItem, MeetingReview, ReviewComment
from banso.observations.models import ObservationMoment, ObservationSession
from banso.profiles.models import AccountProfile, ContactProfile
from banso.tasks.models import Task
from banso.timeline.models import CancellationReason, Mention, TimelineEntry

from .conftest import PASSWORD

TODAY = DEFAULT_TODAY
END_OF_TODAY = datetime.combine(TODAY, time(23, 59, 59), tzinfo=JST)


@pytest.fixture
def documents(session: Session, demo: DemoResult) -> DocumentsResult:
    result = generate_documents(session)
    session.flush()
    return result


def _day(at: datetime) -> date:
    return at.astimezone(JST).date()


def _digest(session: Session) -> str:
    """Every generated value except database ids (PostgreSQL sequences survive a rollback)."""
    queries: list[Any] = [
        select(
            Account.name,
            TimelineEntry.kind,
            TimelineEntry.title,
            TimelineEntry.body,
            TimelineEntry.occurred_at,
            TimelineEntry.severity,
            TimelineEntry.status,
            TimelineEntry.resolved_at,
            TimelineEntry.reason_keys,
        )
        .join(Account)
        .order_by(TimelineEntry.id),
        select(Account.name, Meeting.title, Meeting.scheduled_at, Meeting.status)
        .join(Account)
        .order_by(Meeting.id),
        select(MeetingItem.topic, MeetingItem.customer_view, MeetingItem.decision).order_by(
            MeetingItem.id
        ),
        select(Task.title, Task.owner_type, Task.due_date, Task.status, Task.source).order_by(
            Task.id
        ),
        select(MeetingReview.status, MeetingReview.requested_at).order_by(MeetingReview.id),
        select(AccountProfile.feelings, AccountProfile.rhythm).order_by(AccountProfile.created_at),
        select(ObservationSession.title, ObservationSession.held_at).order_by(
            ObservationSession.id
        ),
        select(KnowledgePage.slug, KnowledgePage.body).order_by(KnowledgePage.slug),
    ]
    rows = [[list(r) for r in session.execute(q)] for q in queries]
    text = json.dumps(rows, default=str, ensure_ascii=False)
    return hashlib.sha256(re.sub(r"\((contact|user):\d+\)", "", text).encode()).hexdigest()


def test_it_writes_the_same_documents_for_the_same_seed(session: Session) -> None:
    # Emptied as `banso demo --reset` does: rolling back to a savepoint would also undo the
    # search index's SQLite FTS5 table, which the demo builds again from scratch.
    generate(session, seed=3, n_accounts=30, admin_password=PASSWORD)
    generate_documents(session)
    first = _digest(session)
    _wipe(session)
    generate(session, seed=3, n_accounts=30, admin_password=PASSWORD)
    generate_documents(session)
    assert _digest(session) == first
    _wipe(session)
    generate(session, seed=4, n_accounts=30, admin_password=PASSWORD)
    generate_documents(session)
    assert _digest(session) != first


def test_it_writes_every_kind_of_document(session: Session, documents: DocumentsResult) -> None:
    kinds: dict[str, int] = dict(
        session.execute(select(TimelineEntry.kind, func.count()).group_by(TimelineEntry.kind)).all()
    )
    assert set(kinds) == {"hearing", "trouble", "call", "email", "note", "cancellation_interview"}
    assert sum(kinds.values()) == documents.entries
    statuses = set(session.scalars(select(Meeting.status).distinct()))
    assert {"planned", "closed"} <= statuses
    assert session.scalar(select(func.count()).select_from(MeetingItem)) == documents.items > 0
    reviews = set(session.scalars(select(MeetingReview.status).distinct()))
    assert reviews == {"requested", "approved"}
    assert session.scalar(select(func.count()).select_from(ReviewComment)) == documents.comments
    sources = set(session.scalars(select(Task.source).distinct()))
    assert sources == {"meeting", "manual"}
    assert set(session.scalars(select(Task.owner_type).distinct())) == {"customer", "us", "joint"}
    overdue = select(func.count()).where(
        Task.status.in_(("open", "in_progress")), Task.due_date < TODAY
    )
    assert (session.scalar(overdue) or 0) > 0
    assert session.scalar(select(func.count()).select_from(AccountProfile)) == (
        documents.account_profiles
    )
    assert (session.scalar(select(func.count()).select_from(ContactProfile)) or 0) > 0
    assert session.scalar(select(func.count()).select_from(ObservationMoment)) == documents.moments
    assert documents.observations >= 3
    templates = session.scalars(select(KnowledgePage.body).where(KnowledgePage.is_template)).all()
    assert len(templates) >= 2 and all(body.startswith("## ") for body in templates)
    assert (session.scalar(select(func.count()).select_from(KnowledgeTag)) or 0) > documents.pages


def test_it_dates_nothing_after_today(session: Session, documents: DocumentsResult) -> None:
    for at, resolved, created in session.execute(
        select(TimelineEntry.occurred_at, TimelineEntry.resolved_at, TimelineEntry.created_at)
    ):
        assert _day(at) <= TODAY and created <= END_OF_TODAY
        assert resolved is None or resolved <= END_OF_TODAY
    for status, at, held, closed in session.execute(
        select(Meeting.status, Meeting.scheduled_at, Meeting.held_at, Meeting.closed_at)
    ):
        assert (status == "planned") == (_day(at) > TODAY)
        assert all(t is None or t <= END_OF_TODAY for t in (held, closed))
    for asked, decided in session.execute(
        select(MeetingReview.requested_at, MeetingReview.decided_at)
    ):
        assert asked <= END_OF_TODAY and (decided is None or asked < decided <= END_OF_TODAY)
    for done, created in session.execute(select(Task.completed_at, Task.created_at)):
        assert created <= END_OF_TODAY and (done is None or created <= done <= END_OF_TODAY)
    for (held,) in session.execute(select(ObservationSession.held_at)):
        assert held <= END_OF_TODAY


def test_it_interviews_every_churned_account_near_its_churn(
    session: Session, documents: DocumentsResult
) -> None:
    taxonomy = set(session.scalars(select(CancellationReason.key)))
    interviews: dict[int, list[tuple[datetime, list[str]]]] = {}
    for account_id, at, keys, hypothesis, improvement in session.execute(
        select(
            TimelineEntry.account_id,
            TimelineEntry.occurred_at,
            TimelineEntry.reason_keys,
            TimelineEntry.hypothesis,
            TimelineEntry.improvement,
        ).where(TimelineEntry.kind == "cancellation_interview")
    ):
        assert keys and set(keys) <= taxonomy and hypothesis and improvement
        interviews.setdefault(account_id, []).append((at, keys))
    churned = {i: s for i, s in stories_by_account(session).items() if s.status == "churned"}
    assert churned
    for account_id, story in churned.items():
        assert story.churn_date is not None
        near = [
            keys
            for at, keys in interviews.get(account_id, [])
            if -14 <= (_day(at) - story.churn_date).days <= 3
        ]
        assert near, f"no cancellation interview near the churn of account {account_id}"
        wanted = w.CANCELLATIONS[story.final.reason or ""][0]
        assert set(near[0]) <= set(wanted)


def test_it_notices_falling_usage_before_the_end(
    session: Session, documents: DocumentsResult
) -> None:
    declining = {
        i: s
        for i, s in stories_by_account(session).items()
        if s.kind in ("at_risk", "churned") and s.decline_start is not None
    }
    assert declining
    for account_id, story in declining.items():
        assert story.decline_start is not None
        end = story.churn_date or TODAY
        titles = session.scalars(
            select(TimelineEntry.title).where(
                TimelineEntry.account_id == account_id,
                TimelineEntry.kind.in_(("note", "hearing", "call")),
                TimelineEntry.occurred_at
                >= datetime.combine(story.decline_start, time(), tzinfo=JST),
                TimelineEntry.occurred_at < datetime.combine(end, time(), tzinfo=JST),
            )
        ).all()
        about_it = [t for t in titles if "利用" in t or "ヘルススコア" in t or "更新" in t]
        if (end - story.decline_start).days > 30:
            assert about_it, f"account {account_id} declined without anyone noticing"


def test_it_meets_about_seats_before_an_expansion(
    session: Session, documents: DocumentsResult
) -> None:
    expanding = {i: s for i, s in stories_by_account(session).items() if s.expansion_dates}
    assert expanding
    for account_id, story in expanding.items():
        days = [
            _day(at)
            for at in session.scalars(
                select(Meeting.scheduled_at).where(
                    Meeting.account_id == account_id,
                    Meeting.title == w.MEETING_TITLES["expansion"],
                )
            )
        ]
        for expanded in story.expansion_dates:
            if expanded - timedelta(days=25) >= story.start:
                assert any(timedelta(0) < expanded - d <= timedelta(days=25) for d in days)


def test_it_resolves_troubles_after_they_occur(
    session: Session, documents: DocumentsResult
) -> None:
    troubles = session.execute(
        select(
            TimelineEntry.occurred_at,
            TimelineEntry.resolved_at,
            TimelineEntry.status,
            TimelineEntry.severity,
            TimelineEntry.resolution,
        ).where(TimelineEntry.kind == "trouble")
    ).all()
    assert len(troubles) == documents.troubles > 0
    resolved = [t for t in troubles if t.status == "resolved"]
    assert len(resolved) > 0.8 * len(troubles)
    for t in troubles:
        assert t.severity in ("low", "medium", "high", "critical")
        if t.status == "resolved":
            assert t.resolved_at is not None and t.resolved_at > t.occurred_at and t.resolution
        else:
            assert t.resolved_at is None and t.resolution is None
            assert (TODAY - _day(t.occurred_at)).days <= 10


def test_it_links_tasks_to_meetings_of_the_same_account(
    session: Session, documents: DocumentsResult
) -> None:
    rows = session.execute(
        select(Task, Meeting, MeetingItem, Account.owner_id)
        .join(Meeting, Task.meeting_id == Meeting.id)
        .join(MeetingItem, Task.meeting_item_id == MeetingItem.id)
        .join(Account, Task.account_id == Account.id)
    ).all()
    assert rows
    for task, meeting, item, owner_id in rows:
        assert task.source == "meeting" and task.account_id == meeting.account_id
        assert item.meeting_id == meeting.id and meeting.status != "planned"
        assert task.assignee_id == owner_id
        assert task.due_date is not None and task.due_date > _day(meeting.scheduled_at)
    unlinked = select(func.count()).where(Task.source == "meeting", Task.meeting_id.is_(None))
    assert session.scalar(unlinked) == 0


def test_it_records_the_people_mentioned(session: Session, documents: DocumentsResult) -> None:
    wanted = {
        (entry_id, kind, ident)
        for entry_id, body in session.execute(select(TimelineEntry.id, TimelineEntry.body))
        for kind, ident in mentions(body)
    }
    recorded = {
        (m.entity_id, "user" if m.user_id else "contact", m.user_id or m.contact_id)
        for m in session.scalars(select(Mention).where(Mention.entity == "timeline_entry"))
    }
    assert wanted and recorded == wanted
    elsewhere = (
        select(func.count())
        .select_from(Mention)
        .join(Contact, Mention.contact_id == Contact.id)
        .where(Contact.account_id != Mention.account_id)
    )
    assert session.scalar(elsewhere) == 0
