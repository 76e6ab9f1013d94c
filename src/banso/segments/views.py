"""Saved segments in the UI: save the current list view, open, rename, update and delete."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from banso.errors import BansoError, InvalidInput
from banso.i18n import gettext
from banso.segments.models import Segment
from banso.segments.service import (
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    update_segment,
)
from banso.segments.view import DEFAULT_COLUMNS, DEFAULT_SORT, CustomerView, parse_view
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()


def segment_url(segment: Segment) -> str:
    """The list showing a segment: its view as query parameters, plus its id to highlight it."""
    saved = segment.view
    view = CustomerView(
        q=saved.get("q") or "",
        filters=dict(saved.get("filters") or {}),
        sort=saved.get("sort") or DEFAULT_SORT,
        columns=list(saved.get("cols") or DEFAULT_COLUMNS),
    )
    return "/customers?" + urlencode([*view.params(), ("segment", str(segment.id))])


def _view_of(session: DbSession, raw: str) -> CustomerView:
    """The list view a form carries (the list's query string, in the body of the POST)."""
    return parse_view(session, parse_qs(raw, keep_blank_values=True))


def _list_url(raw_view: str) -> str:
    """The list at the view a form carried, re-encoded (a header holds only ASCII)."""
    return "/customers?" + urlencode(parse_qsl(raw_view, keep_blank_values=True))


def _back(request: Request, url: str) -> Response:
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _failed(request: Request, exc: BansoError, fallback: str) -> Response:
    message = exc.errors[0].message if isinstance(exc, InvalidInput) else str(exc)
    flash(request, gettext("The segment was not saved: {message}").format(message=message), "error")
    return _back(request, fallback)


@router.get("/segments", response_class=HTMLResponse)
def segments_page(request: Request, session: DbSession, user: SignedInUser) -> HTMLResponse:
    segments = list_segments(session)
    urls = {s.id: segment_url(s) for s in segments}
    return render(request, "segments/segments.html", {"segments": segments, "urls": urls})


@router.get("/segments/{segment_id}")
def open_segment(segment_id: int, session: DbSession, user: SignedInUser) -> Response:
    return RedirectResponse(segment_url(get_segment(session, segment_id)), status_code=303)


@router.post("/segments")
def save_segment(
    request: Request,
    session: DbSession,
    user: WriterUser,
    name: str = Form(""),
    view: str = Form(""),
) -> Response:
    """Save the list view the user is looking at under a name everyone on the team sees."""
    try:
        segment = create_segment(session, actor_of(user), name, _view_of(session, view))
    except BansoError as exc:
        return _failed(request, exc, _list_url(view))
    flash(request, gettext("Segment “{name}” saved.").format(name=segment.name))
    return _back(request, segment_url(segment))


@router.post("/segments/{segment_id}/rename")
def rename_segment(
    request: Request,
    segment_id: int,
    session: DbSession,
    user: WriterUser,
    name: str = Form(""),
    version: int = Form(0),
) -> Response:
    segment = get_segment(session, segment_id)
    try:
        update_segment(session, actor_of(user), segment_id, version, name=name)
    except BansoError as exc:
        return _failed(request, exc, segment_url(segment))
    flash(request, gettext("Segment renamed to “{name}”.").format(name=segment.name))
    return _back(request, segment_url(segment))


@router.post("/segments/{segment_id}/update")
def replace_segment_view(
    request: Request,
    segment_id: int,
    session: DbSession,
    user: WriterUser,
    view: str = Form(""),
    version: int = Form(0),
) -> Response:
    """Make the segment show the current filters, sort and columns."""
    segment = get_segment(session, segment_id)
    try:
        update_segment(session, actor_of(user), segment_id, version, view=_view_of(session, view))
    except BansoError as exc:
        return _failed(request, exc, _list_url(view))
    flash(request, gettext("Segment “{name}” now shows this view.").format(name=segment.name))
    return _back(request, segment_url(segment))


@router.post("/segments/{segment_id}/delete")
def remove_segment(
    request: Request, segment_id: int, session: DbSession, user: WriterUser
) -> Response:
    segment = get_segment(session, segment_id)
    delete_segment(session, actor_of(user), segment_id)
    flash(request, gettext("Segment “{name}” deleted.").format(name=segment.name))
    return _back(request, "/customers")
