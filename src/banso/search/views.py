"""The search page: written documents (timeline, meetings, tasks, knowledge, observations)
found by a Japanese or English query, narrowed by customer, type, author and dates.

Everyone signed in may search. The route reads and checks the form's values, calls
banso.search.documents.search and renders; errors come back on the page, in the reader's
language, never as a server error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from banso.errors import InvalidInput
from banso.i18n import N_, current_timezone, gettext
from banso.search import documents
from banso.search.terms import MAX_QUERY_LENGTH, MAX_QUERY_WORDS
from banso.web.deps import DbSession, SignedInUser
from banso.web.templating import render

router = APIRouter()

KIND_LABELS = {
    "timeline_entry": N_("Timeline entry"),
    "meeting": N_("Meeting"),
    "task": N_("Task"),
    "knowledge_page": N_("Knowledge page"),
    "observation": N_("Observation"),
}
ERRORS = {
    "q": N_("Search with at most %(chars)s characters and %(words)s words."),
    "kind": N_("Choose one of the types."),
    "author": N_("Choose one of the authors."),
    "account": N_("Choose a customer from the list."),
    "from": N_("Enter the start as a date (YYYY-MM-DD)."),
    "to": N_("Enter the end as a date (YYYY-MM-DD), not before the start."),
    "cursor": N_("This page link is out of date; search again."),
}
PAGE_SIZE = 20


@dataclass
class Form:
    """What the search form sent, as typed (shown back), and as checked (searched with)."""

    entered: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    account_id: int | None = None
    author_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _error(name: str) -> str:
    if name == "q":
        return gettext(ERRORS["q"]) % {"chars": MAX_QUERY_LENGTH, "words": MAX_QUERY_WORDS}
    return gettext(ERRORS.get(name, ERRORS["cursor"]))


def _read(params: dict[str, str], authors: list[tuple[int, str]]) -> Form:
    names = ("q", "kind", "account", "customer", "author", "from", "to", "cursor")
    form = Form({k: params.get(k, "").strip() for k in names})
    e = form.entered
    if e["kind"]:
        if e["kind"] in KIND_LABELS:
            form.kind = e["kind"]
        else:
            form.errors["kind"] = _error("kind")
    if e["author"]:
        if e["author"].isdigit() and int(e["author"]) in {a for a, _ in authors}:
            form.author_id = int(e["author"])
        else:
            form.errors["author"] = _error("author")
    if e["account"]:
        if e["account"].isdigit() and len(e["account"]) < 12:
            form.account_id = int(e["account"])
        else:
            form.errors["account"] = _error("account")
    tz = ZoneInfo(current_timezone())
    days: dict[str, date] = {}
    for name in ("from", "to"):
        if e[name]:
            try:
                days[name] = date.fromisoformat(e[name])
            except ValueError:
                form.errors[name] = _error(name)
    if "from" in days:
        form.since = datetime.combine(days["from"], time(), tz)
    if "to" in days:
        if "from" in days and days["to"] < days["from"]:
            form.errors["to"] = _error("to")
        else:
            form.until = datetime.combine(days["to"] + timedelta(days=1), time(), tz)
    return form


def _customer(session: Session, form: Form) -> tuple[str | None, list[tuple[int, str]]]:
    """The customer filter's name, or the customers a typed name could mean."""
    if form.account_id is not None:
        name = documents.account_name(session, form.account_id)
        if name is None:
            form.errors["account"] = _error("account")
        return name, []
    typed = form.entered["customer"]
    if not typed:
        return None, []
    try:
        choices = documents.customers_named(session, typed)
    except InvalidInput:
        form.errors["account"] = _error("account")
        return None, []
    if len(choices) == 1:
        form.account_id = choices[0][0]
        return choices[0][1], []
    if not choices:
        form.errors["account"] = _error("account")
    return None, choices


def _link(entered: dict[str, str], **changes: str | int | None) -> str:
    values = {**entered, **{k: "" if v is None else str(v) for k, v in changes.items()}}
    return "/search?" + urlencode({k: v for k, v in values.items() if v})


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, user: SignedInUser, session: DbSession) -> HTMLResponse:
    authors = documents.authors(session)
    form = _read(dict(request.query_params), authors)
    customer_name, customer_choices = _customer(session, form)
    results: documents.Results | None = None
    if form.entered["q"] and not form.errors and not customer_choices:
        try:
            results = documents.search(
                session,
                form.entered["q"],
                kinds=[form.kind] if form.kind else None,
                account_id=form.account_id,
                author_id=form.author_id,
                since=form.since,
                until=form.until,
                cursor=form.entered["cursor"] or None,
                limit=PAGE_SIZE,
            )
        except InvalidInput as exc:
            for e in exc.errors:
                form.errors.setdefault(e.field, _error(e.field))
    context: dict[str, Any] = {
        "form": form,
        "results": results,
        "kind_labels": KIND_LABELS,
        "authors": authors,
        "customer_name": customer_name,
        "customer_choices": customer_choices,
        "next_link": _link(form.entered, cursor=results.next_cursor)
        if results is not None and results.next_cursor
        else None,
        "first_link": _link(form.entered, cursor=None) if form.entered["cursor"] else None,
        "choice_link": lambda account_id: _link(form.entered, account=account_id, customer=None),
        "without_customer": _link(form.entered, account=None, customer=None, cursor=None),
    }
    status = 422 if form.errors else 200
    return render(request, "search/search.html", context, status_code=status)
