"""Meeting pages: the list, a new meeting, the living document (agenda and hypotheses, review,
the customer's views, decisions and TODOs), the reviews due to me, one document per customer,
and the Markdown/PDF exports.

Everyone signed in reads; CSMs and up write. Forms work as plain POST + redirect; the agenda
items also save through HTMX, swapping only the item's card.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Contact
from banso.accounts.service import get_account
from banso.auth.models import User
from banso.documents.service import EditConflict
from banso.errors import InvalidInput
from banso.i18n import N_, current_timezone, gettext
from banso.meetings import export, service
from banso.meetings.models import Meeting
from banso.meetings.schemas import (
    CommentIn,
    DecisionIn,
    ItemIn,
    ItemPatch,
    MeetingIn,
    MeetingPatch,
    ReviewRequestIn,
    TodoIn,
    parse,
)
from banso.tasks.labels import OWNER_LABELS
from banso.tasks.labels import STATUS_LABELS as TASK_STATUS_LABELS
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of, today_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

STATUS_LABELS = export.STATUS_LABELS
REVIEW_LABELS = {
    "requested": N_("Waiting for review"),
    "changes_requested": N_("Changes requested"),
    "approved": N_("Approved"),
    "withdrawn": N_("Withdrawn"),
}
STATUS_ACTIONS = {
    "held": N_("Mark as held"),
    "closed": N_("Close (minutes done)"),
    "planned": N_("Back to planned"),
    "cancelled": N_("Cancel the meeting"),
}
FIELD_LABELS = {
    "title": N_("Title"),
    "topic": N_("Agenda item"),
    "hypothesis": N_("Our hypothesis"),
    "customer_view": N_("Customer's view"),
    "decision": N_("Decision"),
    "purpose": N_("Purpose"),
    "attendees": N_("Attendees"),
    "location": N_("Location"),
    "summary": N_("Summary"),
}
# What a person sees for a field a form got wrong (the services speak English).
ERRORS = {
    "title": N_("Give a title (at most 300 characters)."),
    "topic": N_("Name the agenda item (at most 300 characters)."),
    "date": N_("Enter the date as YYYY-MM-DD."),
    "time": N_("Enter the time as HH:MM."),
    "account_id": N_("Choose an existing customer."),
    "reviewer_id": N_(
        "Choose a colleague who can write (not yourself) and has not been asked yet."
    ),
    "due_date": N_("Enter a due date (YYYY-MM-DD) that is not in the past, or leave it empty."),
    "body": N_("Write a comment (at most 20,000 characters)."),
    "owner_type": N_("Choose customer, us or joint."),
    "assignee_id": N_("Choose an active user."),
    "contact_id": N_("Choose one of this customer's contacts."),
    "template_page_id": N_("Choose a template page that has '## ' headings."),
}
TOO_LONG = N_("Too long: at most 20,000 characters.")
# The fields each form of the meeting page sends (an emptied field is saved empty).
MEETING_PARTS = {
    "details": ("title", "location", "purpose", "attendees"),
    "summary": ("summary",),
}
ITEM_PARTS = {"before": ("topic", "hypothesis"), "during": ("customer_view", "decision")}


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors(exc: InvalidInput) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in exc.errors:
        name = e.field.split(".")[0]
        if name in ERRORS:
            message = gettext(ERRORS[name])
        elif "at most 20,000" in e.message:
            message = gettext(TOO_LONG)
        else:
            message = e.message
        found.setdefault(name, message)
    return found


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput.one("date", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _due(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput.one("due_date", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput.one("time", f"{text!r} is not a time (HH:MM)") from None


def _id(text: str, name: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput.one(name, f"{text!r} is not an id")
    return int(text)


def _back(meeting_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/meetings/{meeting_id}{anchor}", status_code=303)


# ---------------------------------------------------------------- the living document


def _document_context(session: Session, user: User, meeting: Meeting) -> dict[str, Any]:
    items = service.items_of(session, meeting.id)
    tasks = service.tasks_of(session, meeting.id)
    comments = service.comments_of(session, meeting.id)
    reviews = service.reviews_of(session, meeting.id)
    by_item: dict[int | None, list[Any]] = {}
    for c in comments:
        by_item.setdefault(c.item_id, []).append(c)
    people: set[int | None] = {meeting.owner_id}
    people |= {c.author_id for c in comments}
    people |= {r.reviewer_id for r in reviews} | {r.requested_by_id for r in reviews}
    people |= {t.assignee_id for ts in tasks.values() for t in ts}
    contacts = list(
        session.scalars(
            select(Contact).where(Contact.account_id == meeting.account_id).order_by(Contact.name)
        )
    )
    writers = list(
        session.scalars(
            select(User)
            .where(User.is_active.is_(True), User.role != "viewer")
            .order_by(User.name, User.id)
        )
    )
    local = meeting.scheduled_at.astimezone(ZoneInfo(current_timezone()))
    return {
        "meeting": meeting,
        "scheduled_day": local.date().isoformat(),
        "scheduled_time": local.strftime("%H:%M"),
        "account": get_account(session, meeting.account_id),
        "items": items,
        "tasks": tasks,
        "comments": by_item,
        "reviews": reviews,
        "review_state": service.review_state(reviews),
        "my_review": next(
            (r for r in reviews if r.reviewer_id == user.id and r.status == "requested"), None
        ),
        "people": service.users_by_id(session, people),
        "contacts": contacts,
        "contact_names": {c.id: c.name for c in contacts},
        "writers": writers,
        "reviewers": [w for w in writers if w.id != user.id],
        "can_write": user.can_write,
        "next_statuses": service.NEXT_STATUSES.get(meeting.status, ()),
        "status_labels": STATUS_LABELS,
        "status_actions": STATUS_ACTIONS,
        "review_labels": REVIEW_LABELS,
        "owner_labels": OWNER_LABELS,
        "task_status_labels": TASK_STATUS_LABELS,
        "labels": {k: gettext(v) for k, v in FIELD_LABELS.items()},
        "errors": {},
        "entered": {},
        "conflict": None,
        "conflict_at": None,
    }


def _document(
    request: Request, session: Session, user: User, meeting_id: int,
    extra: dict[str, Any] | None = None, status_code: int = 200, item_id: int | None = None,
) -> Response:  # fmt: skip
    context = _document_context(session, user, service.get_meeting(session, meeting_id))
    context.update(extra or {})
    if item_id is not None and _is_htmx(request):
        context["item"] = next(i for i in context["items"] if i.id == item_id)
        return render(request, "meetings/_item.html", context, status_code=status_code)
    return render(request, "meetings/meeting.html", context, status_code=status_code)


@router.get("/meetings/{meeting_id:int}", response_class=HTMLResponse)
def meeting_page(
    request: Request, meeting_id: int, session: DbSession, user: SignedInUser
) -> Response:
    return _document(request, session, user, meeting_id)


@router.post("/meetings/{meeting_id:int}", response_class=HTMLResponse)
def update_meeting(
    request: Request,
    meeting_id: int,
    session: DbSession,
    user: WriterUser,
    version: int = Form(...),
    part: str = Form(""),
    title: str = Form(""),
    day: str = Form(""),
    at: str = Form(""),
    location: str = Form(""),
    purpose: str = Form(""),
    attendees: str = Form(""),
    summary: str = Form(""),
) -> Response:
    """Save one part of the meeting: its details (title, when, where, who, why) or summary."""
    sent = {"title": title, "location": location, "purpose": purpose, "attendees": attendees,
            "summary": summary, "day": day, "at": at}  # fmt: skip
    key = "summary" if part == "summary" else "header"
    try:
        if part not in MEETING_PARTS:
            raise InvalidInput.one("part", f"is {part!r}; use details or summary")
        data: dict[str, Any] = {k: sent[k] for k in MEETING_PARTS[part]}
        if part == "details":
            when = _day(day)
            if when is None:
                raise InvalidInput.one("date", "the date is missing")
            data["scheduled_at"] = service.local_moment(when, _time(at))
        patch = parse(MeetingPatch, {**data, "version": version})
        service.update_meeting(session, actor_of(user), meeting_id, patch)
    except InvalidInput as exc:
        session.rollback()
        extra = {"errors": {"meeting": _errors(exc)}, "entered": {"meeting": sent}}
        return _document(request, session, user, meeting_id, extra, 422)
    except EditConflict as exc:
        session.rollback()
        return _document(request, session, user, meeting_id,
                         {"conflict": exc, "conflict_at": key}, 409)  # fmt: skip
    flash(request, gettext("Saved."))
    return _back(meeting_id, "#summary" if part == "summary" else "")


@router.post("/meetings/{meeting_id:int}/status", response_class=HTMLResponse)
def change_status(
    request: Request, meeting_id: int, session: DbSession, user: WriterUser,
    status: str = Form(...), version: int = Form(...),
) -> Response:  # fmt: skip
    service.set_status(session, actor_of(user), meeting_id, status, version)
    flash(request, gettext("The meeting is now: %(status)s") % {
        "status": gettext(STATUS_LABELS.get(status, status))})  # fmt: skip
    return _back(meeting_id)


@router.post("/meetings/{meeting_id:int}/delete", response_class=HTMLResponse)
def delete_meeting(
    request: Request, meeting_id: int, session: DbSession, user: WriterUser,
    confirm: str = Form(""),
) -> Response:  # fmt: skip
    account_id = service.get_meeting(session, meeting_id).account_id
    service.delete_meeting(session, actor_of(user), meeting_id, confirm=confirm == "yes")
    flash(request, gettext("The meeting was deleted."))
    return RedirectResponse(f"/customers/{account_id}/meetings", status_code=303)


# ---------------------------------------------------------------- agenda items


@router.post("/meetings/{meeting_id:int}/items", response_class=HTMLResponse)
def add_item(
    request: Request, meeting_id: int, session: DbSession, user: WriterUser,
    topic: str = Form(""), hypothesis: str = Form(""),
) -> Response:  # fmt: skip
    try:
        data = parse(ItemIn, {"topic": topic, "hypothesis": hypothesis})
        item = service.add_item(session, actor_of(user), meeting_id, data)
    except InvalidInput as exc:
        session.rollback()
        extra = {"errors": {"new_item": _errors(exc)},
                 "entered": {"new_item": {"topic": topic, "hypothesis": hypothesis}}}  # fmt: skip
        return _document(request, session, user, meeting_id, extra, 422)
    flash(request, gettext("Agenda item added."))
    return _back(meeting_id, f"#item-{item.id}")


@router.post("/meetings/{meeting_id:int}/items/{item_id:int}", response_class=HTMLResponse)
def update_item(
    request: Request,
    meeting_id: int,
    item_id: int,
    session: DbSession,
    user: WriterUser,
    version: int = Form(...),
    part: str = Form(""),
    topic: str = Form(""),
    hypothesis: str = Form(""),
    customer_view: str = Form(""),
    decision: str = Form(""),
) -> Response:
    """Save an item's hypothesis (part "before") or the customer's view and decision ("during")."""
    sent = {"topic": topic, "hypothesis": hypothesis, "customer_view": customer_view,
            "decision": decision}  # fmt: skip
    if part not in ITEM_PARTS:
        raise InvalidInput.one("part", f"is {part!r}; use before or during")
    data: dict[str, Any] = {k: sent[k] for k in ITEM_PARTS[part]}
    try:
        service.update_item(
            session, actor_of(user), meeting_id, item_id,
            parse(ItemPatch, {**data, "version": version}),
        )  # fmt: skip
    except InvalidInput as exc:
        session.rollback()
        extra: dict[str, Any] = {"errors": {f"item-{item_id}-{part}": _errors(exc)},
                                 "entered": {f"item-{item_id}-{part}": data}}  # fmt: skip
        return _document(request, session, user, meeting_id, extra, 422, item_id)
    except EditConflict as exc:
        session.rollback()
        extra = {"conflict": exc, "conflict_at": f"item-{item_id}-{part}"}
        return _document(request, session, user, meeting_id, extra, 409, item_id)
    if _is_htmx(request):
        return _document(request, session, user, meeting_id, {"saved": item_id}, 200, item_id)
    flash(request, gettext("Saved."))
    return _back(meeting_id, f"#item-{item_id}")


@router.post("/meetings/{meeting_id:int}/items/{item_id:int}/move", response_class=HTMLResponse)
def move_item(
    request: Request, meeting_id: int, item_id: int, session: DbSession, user: WriterUser,
    direction: str = Form(""),
) -> Response:  # fmt: skip
    service.move_item(session, actor_of(user), meeting_id, item_id, direction)
    return _back(meeting_id, f"#item-{item_id}")


@router.post("/meetings/{meeting_id:int}/items/{item_id:int}/delete", response_class=HTMLResponse)
def remove_item(
    request: Request, meeting_id: int, item_id: int, session: DbSession, user: WriterUser,
    version: int = Form(...),
) -> Response:  # fmt: skip
    service.remove_item(session, actor_of(user), meeting_id, item_id, version)
    flash(request, gettext("Agenda item removed."))
    return _back(meeting_id, "#agenda")


@router.post("/meetings/{meeting_id:int}/items/{item_id:int}/todos", response_class=HTMLResponse)
def add_todo(
    request: Request,
    meeting_id: int,
    item_id: int,
    session: DbSession,
    user: WriterUser,
    title: str = Form(""),
    owner_type: str = Form("us"),
    assignee_id: str = Form(""),
    contact_id: str = Form(""),
    due_date: str = Form(""),
) -> Response:
    """A TODO said in the meeting becomes a task, with its owner and due date, in one step."""
    entered = {"title": title, "owner_type": owner_type, "assignee_id": assignee_id,
               "contact_id": contact_id, "due_date": due_date}  # fmt: skip
    try:
        data = parse(TodoIn, {
            "title": title, "owner_type": owner_type, "due_date": _due(due_date),
            "assignee_id": _id(assignee_id, "assignee_id"),
            "contact_id": _id(contact_id, "contact_id"),
        })  # fmt: skip
        service.add_todo(session, actor_of(user), meeting_id, item_id, data)
    except InvalidInput as exc:
        session.rollback()
        extra = {"errors": {f"todo-{item_id}": _errors(exc)},
                 "entered": {f"todo-{item_id}": entered}}  # fmt: skip
        return _document(request, session, user, meeting_id, extra, 422, item_id)
    if _is_htmx(request):
        return _document(request, session, user, meeting_id, {"saved": item_id}, 200, item_id)
    flash(request, gettext("The TODO is now a task."))
    return _back(meeting_id, f"#item-{item_id}")


# ---------------------------------------------------------------- reviews and comments


@router.post("/meetings/{meeting_id:int}/reviews", response_class=HTMLResponse)
def request_review(
    request: Request, meeting_id: int, session: DbSession, user: WriterUser,
    reviewer_id: str = Form(""), message: str = Form(""), due_date: str = Form(""),
) -> Response:  # fmt: skip
    entered = {"reviewer_id": reviewer_id, "message": message, "due_date": due_date}
    try:
        data = parse(ReviewRequestIn, {
            "reviewer_id": _id(reviewer_id, "reviewer_id"), "message": message,
            "due_date": _due(due_date),
        })  # fmt: skip
        service.request_review(session, actor_of(user), meeting_id, data, today_of(request))
    except InvalidInput as exc:
        session.rollback()
        extra = {"errors": {"review": _errors(exc)}, "entered": {"review": entered}}
        return _document(request, session, user, meeting_id, extra, 422)
    flash(request, gettext("Review requested."))
    return _back(meeting_id, "#review")


@router.post(
    "/meetings/{meeting_id:int}/reviews/{review_id:int}/decision", response_class=HTMLResponse
)
def decide_review(
    request: Request, meeting_id: int, review_id: int, session: DbSession, user: WriterUser,
    decision: str = Form(""), comment: str = Form(""),
) -> Response:  # fmt: skip
    try:
        data = parse(DecisionIn, {"decision": decision, "comment": comment})
        service.decide_review(session, actor_of(user), meeting_id, review_id, data)
    except InvalidInput as exc:
        session.rollback()
        extra = {
            "errors": {"decision": _errors(exc)},
            "entered": {"decision": {"comment": comment}},
        }
        return _document(request, session, user, meeting_id, extra, 422)
    flash(request, gettext("Thank you for the review."))
    return _back(meeting_id, "#review")


@router.post(
    "/meetings/{meeting_id:int}/reviews/{review_id:int}/withdraw", response_class=HTMLResponse
)
def withdraw_review(
    request: Request, meeting_id: int, review_id: int, session: DbSession, user: WriterUser
) -> Response:
    service.withdraw_review(session, actor_of(user), meeting_id, review_id)
    flash(request, gettext("Review request withdrawn."))
    return _back(meeting_id, "#review")


@router.post("/meetings/{meeting_id:int}/comments", response_class=HTMLResponse)
def add_comment(
    request: Request, meeting_id: int, session: DbSession, user: WriterUser,
    body: str = Form(""), item_id: str = Form(""),
) -> Response:  # fmt: skip
    key = f"comment-{item_id.strip() or 'all'}"
    try:
        data = parse(CommentIn, {"body": body, "item_id": _id(item_id, "item_id")})
        service.add_comment(session, actor_of(user), meeting_id, data)
    except InvalidInput as exc:
        session.rollback()
        extra = {"errors": {key: _errors(exc)}, "entered": {key: {"body": body}}}
        return _document(request, session, user, meeting_id, extra, 422)
    flash(request, gettext("Comment added."))
    anchor = f"#item-{item_id.strip()}" if item_id.strip() else "#review"
    return _back(meeting_id, anchor)


@router.get("/meetings/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, session: DbSession, user: SignedInUser) -> Response:
    """Reviews asked of me (open first, earliest due first) and the ones I asked for."""
    context = {
        "lists": service.review_lists(session, user.id),
        "review_labels": REVIEW_LABELS,
        "today": today_of(request),
    }
    return render(request, "meetings/reviews.html", context)


# ---------------------------------------------------------------- lists and new meetings


@router.get("/meetings", response_class=HTMLResponse)
def meetings_page(
    request: Request, session: DbSession, user: SignedInUser,
    scope: str = "mine", when: str = "upcoming", cursor: str = "",
) -> Response:  # fmt: skip
    scope = scope if scope in ("mine", "all") else "mine"
    when = when if when in ("upcoming", "recent") else "upcoming"
    found = service.list_meetings(
        session, user_id=user.id, scope=scope, when=when, cursor=cursor or None
    )
    context = {
        "found": found,
        "scope": scope,
        "when": when,
        "status_labels": STATUS_LABELS,
        "reviews_waiting": service.open_reviews_due_to(session, user.id),
    }
    return render(request, "meetings/list.html", context)


def _new_form(
    request: Request, session: DbSession, user: User, account_id: int,
    entered: dict[str, str] | None = None, errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    context = {
        "account": get_account(session, account_id),
        "templates": service.template_pages(session),
        "entered": entered or {"day": today_of(request).isoformat(), "at": "10:00"},
        "errors": errors or {},
    }
    return render(request, "meetings/new.html", context, status_code=status_code)


@router.get("/meetings/new", response_class=HTMLResponse)
def new_meeting_page(
    request: Request, session: DbSession, user: SignedInUser, account_id: int = 0
) -> Response:
    if account_id == 0:
        flash(request, gettext('Open the customer, then choose "New meeting".'), "warning")
        return RedirectResponse("/customers", status_code=303)
    account = get_account(session, account_id)
    if not user.can_write:
        # A viewer who followed a link lands on the meetings they may read.
        flash(request, gettext("A viewer may read meetings but not prepare them."), "warning")
        return RedirectResponse(f"/customers/{account.id}/meetings", status_code=303)
    return _new_form(request, session, user, account.id)


@router.post("/meetings", response_class=HTMLResponse)
def create_meeting(
    request: Request,
    session: DbSession,
    user: WriterUser,
    account_id: int = Form(0),
    title: str = Form(""),
    day: str = Form(""),
    at: str = Form(""),
    location: str = Form(""),
    purpose: str = Form(""),
    attendees: str = Form(""),
    template_page_id: str = Form(""),
) -> Response:
    entered = {"title": title, "day": day, "at": at, "location": location, "purpose": purpose,
               "attendees": attendees, "template_page_id": template_page_id}  # fmt: skip
    account = get_account(session, account_id)
    try:
        when = _day(day)
        if when is None:
            raise InvalidInput.one("date", "the date is missing")
        data = parse(MeetingIn, {
            "account_id": account.id, "title": title,
            "scheduled_at": service.local_moment(when, _time(at)), "location": location,
            "purpose": purpose, "attendees": attendees,
            "template_page_id": _id(template_page_id, "template_page_id"),
        })  # fmt: skip
        meeting = service.create_meeting(session, actor_of(user), data)
    except InvalidInput as exc:
        session.rollback()
        return _new_form(request, session, user, account.id, entered, _errors(exc), 422)
    flash(request, gettext("Meeting created. Write the agenda and our hypotheses."))
    return _back(meeting.id)


# ---------------------------------------------------------------- one document per customer


@router.get("/customers/{account_id:int}/meetings", response_class=HTMLResponse)
def customer_meetings(
    request: Request, account_id: int, session: DbSession, user: SignedInUser,
    q: str = "", cursor: str = "",
) -> Response:  # fmt: skip
    """Every meeting of one customer, newest first, in one document; searchable."""
    from banso.search.documents import search

    document = service.customer_document(session, account_id, cursor=None if q else cursor or None)
    hits = None
    error = ""
    if q.strip():
        try:
            hits = search(session, q, account_id=account_id, kinds=("meeting",), limit=50).hits
        except InvalidInput as exc:
            error = str(exc)
    context = {
        "document": document,
        "account": document.account,
        "q": q,
        "hits": hits,
        "search_error": error,
        "status_labels": STATUS_LABELS,
    }
    return render(request, "meetings/customer.html", context)


# ---------------------------------------------------------------- exports


def _download(body: bytes, media_type: str, disposition: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/meetings/{meeting_id:int}/export.md")
def export_markdown(
    meeting_id: int, session: DbSession, user: SignedInUser, hypotheses: str = ""
) -> Response:
    found = export.gather(session, meeting_id, hypotheses=hypotheses == "1")
    return _download(
        export.to_markdown(found).encode("utf-8"), "text/markdown; charset=utf-8",
        export.content_disposition(found, "md"),
    )  # fmt: skip


@router.get("/meetings/{meeting_id:int}/export.pdf")
def export_pdf(
    meeting_id: int, session: DbSession, user: SignedInUser, hypotheses: str = ""
) -> Response:
    found = export.gather(session, meeting_id, hypotheses=hypotheses == "1")
    return _download(
        export.to_pdf(found), "application/pdf", export.content_disposition(found, "pdf")
    )
