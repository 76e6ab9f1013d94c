"""Meetings as a living document: the agenda (論点) and our hypotheses before, the customer's
views, decisions and TODOs during and after, and a colleague's review in between (M23, M24).

Every text save goes through :func:`banso.documents.service.save_fields`, so two people
editing the same item during the meeting never lose an edit: the second gets an
``EditConflict`` carrying a merge. Every write keeps the meeting's search document current.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, case, func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.accounts.service import find, get_account
from banso.audit.service import Actor, record, snapshot
from banso.auth.models import User
from banso.db import utcnow
from banso.documents.markdown import excerpt
from banso.documents.service import add_revision, forget, save_fields
from banso.errors import (
    ConfirmationRequired,
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from banso.i18n import current_timezone
from banso.listing import Page, SortKey, paginate
from banso.meetings.models import Meeting, MeetingItem, MeetingReview, ReviewComment
from banso.meetings.schemas import (
    CommentIn,
    DecisionIn,
    ItemIn,
    ItemPatch,
    MeetingIn,
    MeetingPatch,
    ReviewRequestIn,
    TodoIn,
)
from banso.tasks.models import Task
from banso.tasks.schemas import TaskIn
from banso.tasks.service import create_task, meeting_tasks

if TYPE_CHECKING:
    from banso.search.documents import Doc
    from banso.timeline.stream import StreamItem

MEETING = "meeting"
ITEM = "meeting_item"
MEETING_TEXT = ("title", "location", "purpose", "attendees", "summary")
ITEM_TEXT = ("topic", "hypothesis", "customer_view", "decision")
OPEN_REVIEW = "requested"
MAX_ITEMS = 100
PAGE_SIZE = 20
# Which status may follow which: a held meeting is closed once its minutes are done.
NEXT_STATUSES = {
    "planned": ("held", "cancelled"),
    "held": ("closed", "planned"),
    "closed": ("held",),
    "cancelled": ("planned",),
}
MEETING_SORTS = {"scheduled_at": SortKey(Meeting.scheduled_at)}


def _require_writer(actor: Actor) -> None:
    if not actor.can_write:
        raise PermissionDenied("a viewer may read meetings but not change them")


def local_moment(day: date, at: time | None, timezone: str | None = None) -> datetime:
    """A local date and time in the workspace timezone, as an aware datetime."""
    return datetime.combine(day, at or time(), tzinfo=ZoneInfo(timezone or current_timezone()))


# ------------------------------------------------------------------ reading


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = find(session, Meeting, meeting_id)
    if meeting is None:
        raise NotFound("meeting", meeting_id)
    return meeting


def get_item(session: Session, meeting_id: int, item_id: int) -> MeetingItem:
    """An agenda item of this meeting (an item of another meeting is not found here)."""
    item = find(session, MeetingItem, item_id)
    if item is None or item.meeting_id != meeting_id:
        raise NotFound("agenda item", f"{item_id} of meeting {meeting_id}")
    return item


def items_of(session: Session, meeting_id: int) -> list[MeetingItem]:
    return list(
        session.scalars(
            select(MeetingItem)
            .where(MeetingItem.meeting_id == meeting_id)
            .order_by(MeetingItem.position, MeetingItem.id)
        )
    )


def _items_by_meeting(session: Session, ids: list[int]) -> dict[int, list[MeetingItem]]:
    found: dict[int, list[MeetingItem]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(MeetingItem)
        .where(MeetingItem.meeting_id.in_(ids))
        .order_by(MeetingItem.meeting_id, MeetingItem.position, MeetingItem.id)
    )
    for item in rows:
        found[item.meeting_id].append(item)
    return found


def tasks_of(session: Session, meeting_id: int) -> dict[int | None, list[Task]]:
    """The tasks made from this meeting's TODOs, by agenda item (None: the whole meeting)."""
    found: dict[int | None, list[Task]] = {}
    for task in meeting_tasks(session, meeting_id):
        found.setdefault(task.meeting_item_id, []).append(task)
    return found


def comments_of(session: Session, meeting_id: int) -> list[ReviewComment]:
    return list(
        session.scalars(
            select(ReviewComment)
            .where(ReviewComment.meeting_id == meeting_id)
            .order_by(ReviewComment.created_at, ReviewComment.id)
        )
    )


def reviews_of(session: Session, meeting_id: int) -> list[MeetingReview]:
    """Every review asked for on this meeting, newest first."""
    return list(
        session.scalars(
            select(MeetingReview)
            .where(MeetingReview.meeting_id == meeting_id)
            .order_by(MeetingReview.requested_at.desc(), MeetingReview.id.desc())
        )
    )


def review_state(reviews: list[MeetingReview]) -> str | None:
    """One word for the meeting's header: the latest decision of each reviewer, combined.

    "changes_requested" when any reviewer's latest asks for changes, "requested" when one is
    still waiting, "approved" when all latest are approvals, None when nobody was asked.
    """
    latest: dict[int, str] = {}
    for review in reviews:  # newest first
        if review.status != "withdrawn":
            latest.setdefault(review.reviewer_id, review.status)
    states = set(latest.values())
    for state in ("changes_requested", "requested", "approved"):
        if state in states:
            return state
    return None


def users_by_id(session: Session, ids: set[int | None]) -> dict[int, User]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def possible_reviewers(session: Session, actor: Actor) -> list[User]:
    """Active users who can write, except the one asking."""
    return list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role != "viewer", User.id != (actor.user_id or 0))
            .order_by(User.name, User.id)
        )
    )


@dataclass
class MeetingList:
    meetings: list[Meeting]
    accounts: dict[int, Account]
    next_cursor: str | None


def list_meetings(
    session: Session,
    *,
    user_id: int | None,
    scope: str = "mine",
    when: str = "upcoming",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    account_id: int | None = None,
) -> MeetingList:
    """Upcoming meetings (soonest first) or recent ones (newest first), mine or everyone's."""
    stmt = select(Meeting)
    now = utcnow()
    if when == "upcoming":
        stmt = stmt.where(Meeting.scheduled_at >= now - timedelta(hours=12))
        sort = "scheduled_at"
    else:
        stmt = stmt.where(Meeting.scheduled_at < now - timedelta(hours=12))
        sort = "-scheduled_at"
    if scope == "mine":
        stmt = stmt.where(Meeting.owner_id == user_id)
    if account_id is not None:
        stmt = stmt.where(Meeting.account_id == account_id)
    page: Page[Meeting] = paginate(
        session, stmt, id_column=Meeting.id, sortable=MEETING_SORTS, sort=sort,
        cursor=cursor, limit=limit,
    )  # fmt: skip
    return MeetingList(page.items, _accounts(session, page.items), page.next_cursor)


def _accounts(session: Session, meetings: list[Meeting]) -> dict[int, Account]:
    ids = {m.account_id for m in meetings}
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}


@dataclass
class CustomerDocument:
    """All meetings of one customer, newest first, each with its agenda items."""

    account: Account
    meetings: list[Meeting]
    items: dict[int, list[MeetingItem]]
    next_cursor: str | None


def customer_document(
    session: Session, account_id: int, cursor: str | None = None, limit: int = PAGE_SIZE
) -> CustomerDocument:
    account = get_account(session, account_id)
    page: Page[Meeting] = paginate(
        session, select(Meeting).where(Meeting.account_id == account.id), id_column=Meeting.id,
        sortable=MEETING_SORTS, sort="-scheduled_at", cursor=cursor, limit=limit,
    )  # fmt: skip
    items = _items_by_meeting(session, [m.id for m in page.items])
    return CustomerDocument(account, page.items, items, page.next_cursor)


@dataclass
class ReviewRow:
    review: MeetingReview
    meeting: Meeting
    account: Account


@dataclass
class ReviewLists:
    due_to_me: list[ReviewRow] = field(default_factory=list)
    my_requests: list[ReviewRow] = field(default_factory=list)
    users: dict[int, User] = field(default_factory=dict)


def _open_first() -> ColumnElement[int]:
    return case((MeetingReview.status == OPEN_REVIEW, 0), else_=1)


def review_lists(session: Session, user_id: int, limit: int = 100) -> ReviewLists:
    """Reviews asked of me (open first, earliest due first) and the ones I asked for."""
    far = datetime(9999, 12, 31, tzinfo=ZoneInfo("UTC"))
    base = select(MeetingReview, Meeting, Account).join(
        Meeting, Meeting.id == MeetingReview.meeting_id
    ).join(Account, Account.id == Meeting.account_id)  # fmt: skip
    mine = session.execute(
        base.where(MeetingReview.reviewer_id == user_id)
        .order_by(
            _open_first(), func.coalesce(MeetingReview.due_at, far),
            MeetingReview.requested_at.desc(), MeetingReview.id.desc(),
        ).limit(limit)
    )  # fmt: skip
    asked = session.execute(
        base.where(MeetingReview.requested_by_id == user_id)
        .order_by(_open_first(), MeetingReview.requested_at.desc(), MeetingReview.id.desc())
        .limit(limit)
    )
    lists = ReviewLists(
        [ReviewRow(r, m, a) for r, m, a in mine], [ReviewRow(r, m, a) for r, m, a in asked]
    )
    people: set[int | None] = {r.review.reviewer_id for r in lists.my_requests}
    people |= {r.review.requested_by_id for r in lists.due_to_me}
    lists.users = users_by_id(session, people)
    return lists


def open_reviews_due_to(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(MeetingReview).where(
                MeetingReview.reviewer_id == user_id, MeetingReview.status == OPEN_REVIEW
            )
        ) or 0
    )  # fmt: skip


# ------------------------------------------------------------------ search and timeline


def _document_body(meeting: Meeting, items: list[MeetingItem]) -> str:
    parts = [meeting.purpose or "", meeting.attendees or ""]
    for item in items:
        parts.extend([item.topic, item.hypothesis, item.customer_view, item.decision])
    parts.append(meeting.summary or "")
    return "\n\n".join(p for p in parts if p)


def meeting_document(meeting: Meeting, items: list[MeetingItem]) -> Doc:
    """The meeting as the search index sees it: title, purpose, every item's texts, summary."""
    from banso.search.documents import Doc

    return Doc(
        kind=MEETING,
        ref_id=meeting.id,
        account_id=meeting.account_id,
        author_id=meeting.owner_id,
        occurred_at=meeting.scheduled_at,
        title=meeting.title,
        body=_document_body(meeting, items),
        url=f"/meetings/{meeting.id}",
    )


def _index(session: Session, meeting: Meeting) -> None:
    from banso.search.documents import put

    session.flush()
    put(session, meeting_document(meeting, items_of(session, meeting.id)))


def search_documents(session: Session) -> Iterator[Doc]:
    """Every meeting, for ``banso search reindex``."""
    batch: list[Meeting] = []
    for meeting in session.scalars(
        select(Meeting).order_by(Meeting.id).execution_options(yield_per=200)
    ):
        batch.append(meeting)
        if len(batch) == 200:
            yield from _documents(session, batch)
            batch = []
    yield from _documents(session, batch)


def _documents(session: Session, meetings: list[Meeting]) -> Iterator[Doc]:
    items = _items_by_meeting(session, [m.id for m in meetings])
    for meeting in meetings:
        yield meeting_document(meeting, items[meeting.id])


def _stream_body(items: list[MeetingItem]) -> str:
    lines = []
    for item in items:
        line = f"- **{_inline(item.topic)}**"
        if item.decision.strip():
            line += f": {excerpt(item.decision, 120)}"
        lines.append(line)
    return "\n".join(lines)


def _inline(text: str) -> str:
    """Text safe inside ``**...**`` on one line."""
    return " ".join(text.replace("*", "\\*").split())


def stream_items(
    session: Session, account_id: int, since: datetime | None = None,
    until: datetime | None = None,
) -> list[StreamItem]:  # fmt: skip
    """The account's meetings for its timeline: topics and decisions, newest first."""
    from banso.timeline.stream import StreamItem

    stmt = select(Meeting).where(Meeting.account_id == account_id)
    if since is not None:
        stmt = stmt.where(Meeting.scheduled_at >= since)
    if until is not None:
        stmt = stmt.where(Meeting.scheduled_at < until)
    meetings = list(session.scalars(stmt.order_by(Meeting.scheduled_at.desc(), Meeting.id.desc())))
    items = _items_by_meeting(session, [m.id for m in meetings])
    return [
        StreamItem(
            kind=MEETING,
            occurred_at=m.scheduled_at,
            title=m.title,
            url=f"/meetings/{m.id}",
            body=_stream_body(items[m.id]),
            author_id=m.owner_id,
            ref_id=m.id,
            extra={"status": m.status, "location": m.location, "items": len(items[m.id])},
        )
        for m in meetings
    ]


# ------------------------------------------------------------------ meetings


def _check_user(session: Session, name: str, user_id: int | None) -> None:
    if user_id is not None and find(session, User, user_id) is None:
        raise InvalidInput.one(name, f"user {user_id} does not exist")


def _template_items(session: Session, page_id: int) -> list[tuple[str, str]]:
    from banso.knowledge import service as knowledge

    try:
        return knowledge.agenda_items(session, page_id)
    except NotFound:
        raise InvalidInput.one(
            "template_page_id", f"knowledge page {page_id} does not exist; choose a template"
        ) from None
    except InvalidInput as exc:
        raise InvalidInput.one("template_page_id", str(exc.errors[0].message)) from None


def template_pages(session: Session) -> list[Any]:
    """The knowledge pages a new meeting's agenda can start from."""
    from banso.knowledge import service as knowledge

    return knowledge.template_pages(session)


def create_meeting(session: Session, actor: Actor, data: MeetingIn) -> Meeting:
    """A planned meeting for an account; its agenda may start from a knowledge template."""
    _require_writer(actor)
    if find(session, Account, data.account_id) is None:
        raise InvalidInput.one("account_id", f"account {data.account_id} does not exist")
    owner_id = data.owner_id if data.owner_id is not None else actor.user_id
    _check_user(session, "owner_id", owner_id)
    agenda = _template_items(session, data.template_page_id) if data.template_page_id else []
    meeting = Meeting(
        account_id=data.account_id, title=data.title, scheduled_at=data.scheduled_at,
        location=data.location, purpose=data.purpose, attendees=data.attendees,
        owner_id=owner_id, template_page_id=data.template_page_id, status="planned",
    )  # fmt: skip
    session.add(meeting)
    session.flush()
    add_revision(session, actor, MEETING, meeting.id, meeting.version, _meeting_fields(meeting))
    record(session, actor, "create", MEETING, meeting.id, None, snapshot(meeting))
    for position, (topic, hypothesis) in enumerate(agenda[:MAX_ITEMS]):
        _new_item(session, actor, meeting, position, topic[:300], hypothesis)
    _index(session, meeting)
    return meeting


def _meeting_fields(meeting: Meeting) -> dict[str, Any]:
    return {k: getattr(meeting, k) for k in (*MEETING_TEXT, "scheduled_at", "status")}


def update_meeting(session: Session, actor: Actor, meeting_id: int, patch: MeetingPatch) -> Meeting:
    """Change the header or the summary; a stale version raises EditConflict with a merge."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    for required in ("title", "scheduled_at"):
        if required in changes and changes[required] is None:
            raise InvalidInput.one(required, "cannot be empty")
    save_fields(session, actor, MEETING, meeting, patch.version, changes, text_fields=MEETING_TEXT)
    _index(session, meeting)
    return meeting


def set_status(
    session: Session, actor: Actor, meeting_id: int, status: str, version: int
) -> Meeting:
    """Move a meeting along planned → held → closed (or cancelled), stamping when."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    allowed = NEXT_STATUSES.get(meeting.status, ())
    if status not in allowed:
        raise InvalidInput.one(
            "status",
            f"a {meeting.status} meeting can become {' or '.join(allowed)}, not {status!r}",
        )
    if version != meeting.version:
        raise Conflict(
            "the meeting was changed after you opened it; reload it and try again",
            current={"version": meeting.version},
        )
    changes: dict[str, Any] = {"status": status}
    now = utcnow()
    if status == "held" and meeting.held_at is None:
        changes["held_at"] = now
    if status == "closed":
        changes["closed_at"] = now
    elif meeting.closed_at is not None:
        changes["closed_at"] = None
    save_fields(session, actor, MEETING, meeting, version, changes)
    _index(session, meeting)
    return meeting


def delete_meeting(session: Session, actor: Actor, meeting_id: int, *, confirm: bool) -> None:
    """Delete a meeting with its items, reviews and comments (its tasks stay, unlinked)."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    items = items_of(session, meeting_id)
    if not confirm:
        tasks = sum(len(t) for t in tasks_of(session, meeting_id).values())
        raise ConfirmationRequired(
            f"deleting meeting {meeting_id} removes its {len(items)} agenda items and reviews; "
            "confirm to delete",
            {"items": len(items), "tasks_unlinked": tasks},
        )
    before = snapshot(meeting)
    for item in items:
        forget(session, ITEM, item.id)
    forget(session, MEETING, meeting_id)
    session.delete(meeting)
    session.flush()
    from banso.search.documents import drop

    drop(session, MEETING, meeting_id)
    record(session, actor, "delete", MEETING, meeting_id, before, None)


# ------------------------------------------------------------------ agenda items


def _new_item(
    session: Session, actor: Actor, meeting: Meeting, position: int, topic: str, hypothesis: str
) -> MeetingItem:
    item = MeetingItem(
        meeting_id=meeting.id, position=position, topic=topic, hypothesis=hypothesis,
        customer_view="", decision="",
    )  # fmt: skip
    session.add(item)
    session.flush()
    fields = {k: getattr(item, k) for k in ITEM_TEXT}
    add_revision(session, actor, ITEM, item.id, item.version, fields)
    record(session, actor, "create", ITEM, item.id, None, snapshot(item))
    return item


def add_item(session: Session, actor: Actor, meeting_id: int, data: ItemIn) -> MeetingItem:
    """Add an agenda item (論点) with our hypothesis at the end of the agenda."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    count, last = session.execute(
        select(func.count(), func.max(MeetingItem.position)).where(
            MeetingItem.meeting_id == meeting_id
        )
    ).one()
    if count >= MAX_ITEMS:
        raise InvalidInput.one("topic", f"a meeting holds at most {MAX_ITEMS} agenda items")
    item = _new_item(
        session, actor, meeting, (last if last is not None else -1) + 1, data.topic,
        data.hypothesis,
    )  # fmt: skip
    _index(session, meeting)
    return item


def update_item(
    session: Session, actor: Actor, meeting_id: int, item_id: int, patch: ItemPatch
) -> MeetingItem:
    """Save an item's texts; a stale version raises EditConflict carrying the merges."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    item = get_item(session, meeting_id, item_id)
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    changes = {k: ("" if v is None and k != "topic" else v) for k, v in changes.items()}
    if "topic" in changes and changes["topic"] is None:
        raise InvalidInput.one("topic", "cannot be empty; name the agenda item")
    save_fields(session, actor, ITEM, item, patch.version, changes, text_fields=ITEM_TEXT)
    _index(session, meeting)
    return item


def move_item(
    session: Session, actor: Actor, meeting_id: int, item_id: int, direction: str
) -> list[MeetingItem]:
    """Move an item one place up or down; the others keep their order.

    Positions change without a new version of the items, so that reordering the agenda
    never makes someone's open edit of an item stale.
    """
    _require_writer(actor)
    if direction not in ("up", "down"):
        raise InvalidInput.one("direction", f"is {direction!r}; use up or down")
    get_meeting(session, meeting_id)
    item = get_item(session, meeting_id, item_id)
    items = items_of(session, meeting_id)
    index = next(i for i, it in enumerate(items) if it.id == item.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return items
    items[index], items[other] = items[other], items[index]
    before = [it.id for it in items_of(session, meeting_id)]
    table = MeetingItem.__table__
    assert isinstance(table, Table)
    for position, it in enumerate(items):
        if it.position != position:
            session.execute(table.update().where(table.c.id == it.id).values(position=position))
            session.expire(it, ["position"])
    record(
        session, actor, "reorder", MEETING, meeting_id, {"items": before},
        {"items": [it.id for it in items]},
    )  # fmt: skip
    return items_of(session, meeting_id)


def remove_item(
    session: Session, actor: Actor, meeting_id: int, item_id: int, version: int
) -> None:
    """Remove an agenda item (its TODO tasks stay, no longer linked to the item)."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    item = get_item(session, meeting_id, item_id)
    if version != item.version:
        raise Conflict(
            "the agenda item was changed after you opened it; read it again before removing",
            current={"version": item.version},
        )
    before = snapshot(item)
    forget(session, ITEM, item.id)
    session.delete(item)
    session.flush()
    record(session, actor, "delete", ITEM, item_id, before, None)
    _index(session, meeting)


# ------------------------------------------------------------------ reviews


def _end_of(day: date) -> datetime:
    return local_moment(day, time(23, 59, 59))


def request_review(
    session: Session, actor: Actor, meeting_id: int, data: ReviewRequestIn, today: date
) -> MeetingReview:
    """Ask a colleague (an active user who can write, not oneself) to review the agenda."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    errors: list[FieldError] = []
    reviewer = find(session, User, data.reviewer_id)
    if reviewer is None:
        errors.append(FieldError("reviewer_id", f"user {data.reviewer_id} does not exist"))
    elif reviewer.id == actor.user_id:
        errors.append(FieldError("reviewer_id", "ask a colleague; you cannot review your own"))
    elif not reviewer.can_write:
        errors.append(
            FieldError("reviewer_id", f"{reviewer.name} is inactive or a viewer and cannot review")
        )
    if data.due_date is not None and data.due_date < today:
        errors.append(FieldError("due_date", f"{data.due_date} is in the past"))
    if meeting.status in ("closed", "cancelled"):
        errors.append(FieldError("meeting", f"the meeting is {meeting.status}"))
    if errors:
        raise InvalidInput(errors)
    waiting = session.scalar(
        select(MeetingReview.id).where(
            MeetingReview.meeting_id == meeting_id,
            MeetingReview.reviewer_id == data.reviewer_id,
            MeetingReview.status == OPEN_REVIEW,
        )
    )
    if waiting is not None:
        raise InvalidInput.one(
            "reviewer_id", "this colleague was already asked and has not answered yet"
        )
    review = MeetingReview(
        meeting_id=meeting_id, reviewer_id=data.reviewer_id, requested_by_id=actor.user_id,
        message=data.message, status=OPEN_REVIEW, requested_at=utcnow(),
        due_at=_end_of(data.due_date) if data.due_date else None,
    )  # fmt: skip
    session.add(review)
    session.flush()
    record(session, actor, "create", "meeting_review", review.id, None, snapshot(review))
    return review


def _review(session: Session, meeting_id: int, review_id: int) -> MeetingReview:
    review = find(session, MeetingReview, review_id)
    if review is None or review.meeting_id != meeting_id:
        raise NotFound("review", f"{review_id} of meeting {meeting_id}")
    return review


def decide_review(
    session: Session, actor: Actor, meeting_id: int, review_id: int, data: DecisionIn
) -> MeetingReview:
    """The reviewer approves or asks for changes, with an optional comment."""
    _require_writer(actor)
    get_meeting(session, meeting_id)
    review = _review(session, meeting_id, review_id)
    if review.reviewer_id != actor.user_id:
        raise PermissionDenied("only the colleague asked for this review can decide it")
    if review.status != OPEN_REVIEW:
        raise Conflict(f"this review is already {review.status.replace('_', ' ')}")
    before = snapshot(review)
    review.status = data.decision
    review.decided_at = utcnow()
    if data.comment:
        session.add(
            ReviewComment(
                meeting_id=meeting_id, review_id=review.id, author_id=actor.user_id,
                body=data.comment, created_at=utcnow(),
            )
        )  # fmt: skip
    session.flush()
    record(session, actor, "update", "meeting_review", review.id, before, snapshot(review))
    return review


def withdraw_review(session: Session, actor: Actor, meeting_id: int, review_id: int) -> None:
    """The one who asked takes back an unanswered request."""
    _require_writer(actor)
    review = _review(session, meeting_id, review_id)
    if review.requested_by_id != actor.user_id and not actor.is_admin:
        raise PermissionDenied("only the one who asked can withdraw a review request")
    if review.status != OPEN_REVIEW:
        raise Conflict(f"this review is already {review.status.replace('_', ' ')}")
    before = snapshot(review)
    review.status = "withdrawn"
    session.flush()
    record(session, actor, "update", "meeting_review", review.id, before, snapshot(review))


def add_comment(session: Session, actor: Actor, meeting_id: int, data: CommentIn) -> ReviewComment:
    """A comment on the whole agenda or on one item; a reviewer's joins their open review."""
    _require_writer(actor)
    get_meeting(session, meeting_id)
    if data.item_id is not None:
        get_item(session, meeting_id, data.item_id)
    review_id = session.scalar(
        select(MeetingReview.id).where(
            MeetingReview.meeting_id == meeting_id,
            MeetingReview.reviewer_id == (actor.user_id or 0),
            MeetingReview.status == OPEN_REVIEW,
        )
    )
    comment = ReviewComment(
        meeting_id=meeting_id, item_id=data.item_id, review_id=review_id,
        author_id=actor.user_id, body=data.body, created_at=utcnow(),
    )  # fmt: skip
    session.add(comment)
    session.flush()
    record(session, actor, "create", "meeting_review_comment", comment.id, None, snapshot(comment))
    return comment


# ------------------------------------------------------------------ TODOs → tasks


def add_todo(
    session: Session, actor: Actor, meeting_id: int, item_id: int | None, data: TodoIn
) -> Task:
    """Turn a TODO said in the meeting into a task linked to the meeting and its item."""
    _require_writer(actor)
    meeting = get_meeting(session, meeting_id)
    if item_id is not None:
        get_item(session, meeting_id, item_id)
    ref = f"meeting:{meeting_id}" + (f"/item:{item_id}" if item_id is not None else "")
    task_in = TaskIn(
        title=data.title, description=data.description, owner_type=data.owner_type,
        assignee_id=data.assignee_id, contact_id=data.contact_id, due_date=data.due_date,
        account_id=meeting.account_id, source="meeting", source_ref=ref,
        meeting_id=meeting_id, meeting_item_id=item_id,
    )  # fmt: skip
    return create_task(session, actor, task_in)
