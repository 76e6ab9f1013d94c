"""Knowledge base pages: the list (kind and tag filters, search), a page, writing and editing
with a Markdown preview, the history of versions with the change each made, and archiving.

Everyone signed in reads; CSMs and up write. Edits based on an old version are not saved:
the writer gets both texts and a merge to settle (documents/_merge.html).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from banso.documents import service as documents
from banso.documents.markdown import render as render_markdown
from banso.documents.service import EditConflict
from banso.errors import Conflict, InvalidInput
from banso.i18n import N_, gettext
from banso.knowledge import service
from banso.knowledge.models import PAGE_KINDS, KnowledgePage
from banso.knowledge.schemas import MAX_TAGS, PageEdit, PageIn
from banso.search.documents import search
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()

KIND_LABELS = {
    "principle": N_("Principle of conduct"),
    "playbook": N_("Playbook write-up"),
    "template": N_("Proposal / agenda template"),
    "other": N_("Other"),
}
FIELD_LABELS = {"title": N_("Title"), "body": N_("Body (Markdown)")}
# What the writer sees for a field the form got wrong (the services speak English).
PAGE_ERRORS = {
    "title": N_("Give the page a title of at most 300 characters."),
    "kind": N_("Choose one of the kinds."),
    "body": N_("The body is too long: at most 100,000 characters."),
    "tags": N_("At most 20 tags, each at most 100 characters; separate them with commas."),
    "slug": N_(
        "Use lower-case letters, digits and hyphens (at most 80 characters); "
        "“new” and “preview” are taken by banso."
    ),
    "version": N_("Reload the page and edit again."),
}
SLUG_TAKEN = N_("Another page already has this address; choose another.")
PAGE_SIZE = 30


def _field_errors(exc: ValidationError | InvalidInput) -> dict[str, str]:
    names = (
        [str(e["loc"][0]) if e["loc"] else "body" for e in exc.errors()]
        if isinstance(exc, ValidationError)
        else [e.field.split(".")[0] for e in exc.errors]
    )
    return {n: gettext(PAGE_ERRORS.get(n, PAGE_ERRORS["version"])) for n in names}


def _labels() -> dict[str, str]:
    return {k: gettext(v) for k, v in FIELD_LABELS.items()}


def _kinds() -> dict[str, str]:
    return {k: gettext(KIND_LABELS[k]) for k in PAGE_KINDS}


def _no_writing(request: Request) -> Response:
    flash(request, gettext("Viewers can read the knowledge base but not write in it."), "warning")
    return RedirectResponse("/knowledge", status_code=303)


# ---------------------------------------------------------------- list and search


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge_list(
    request: Request,
    session: DbSession,
    user: SignedInUser,
    kind: str = "",
    tag: str = "",
    q: str = "",
    archived: str = "",
    cursor: str = "",
) -> Response:
    f = service.PageFilter(
        kind=kind if kind in PAGE_KINDS else None,
        tag=tag.strip() or None,
        archived=archived == "1",
    )
    hits = (
        search(session, q, kinds=("knowledge_page",), cursor=cursor or None) if q.strip() else None
    )
    pages = None if hits else service.list_pages(session, f, cursor=cursor or None, limit=PAGE_SIZE)
    shown = pages.items if pages else []
    query = {
        k: v for k, v in {"kind": f.kind, "tag": f.tag, "q": q, "archived": archived}.items() if v
    }
    context = {
        "pages": shown,
        "next_cursor": (hits.next_cursor if hits else pages.next_cursor if pages else None),
        "hits": hits,
        "tags": service.tags_of(session, [p.id for p in shown]),
        "all_tags": service.all_tags(session)[:40],
        "filter": f,
        "q": q,
        "query": urlencode(query),
        "kinds": _kinds(),
        "can_write": user.can_write,
    }
    return render(request, "knowledge/list.html", context)


# ---------------------------------------------------------------- writing a page


def _form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200,
    page: KnowledgePage | None = None, conflict: EditConflict | None = None,
) -> Response:  # fmt: skip
    context = {
        "values": values, "errors": errors, "kinds": _kinds(), "page": page,
        "conflict": conflict, "labels": _labels(), "max_tags": MAX_TAGS,
    }  # fmt: skip
    return render(request, "knowledge/form.html", context, status_code=status_code)


@router.get("/knowledge/new", response_class=HTMLResponse)
def new_page(request: Request, user: SignedInUser, kind: str = "other") -> Response:
    if not user.can_write:
        return _no_writing(request)
    values = {"title": "", "kind": kind if kind in PAGE_KINDS else "other", "body": "", "tags": "",
              "slug": ""}  # fmt: skip
    return _form(request, values, {})


@router.post("/knowledge", response_class=HTMLResponse)
def create_page(
    request: Request,
    session: DbSession,
    user: WriterUser,
    title: str = Form(""),
    kind: str = Form("other"),
    body: str = Form(""),
    tags: str = Form(""),
    slug: str = Form(""),
) -> Response:
    values = {"title": title, "kind": kind, "body": body, "tags": tags, "slug": slug}
    try:
        data = PageIn(title=title, kind=kind, body=body, tags=tags, slug=slug)
        page = service.create_page(session, actor_of(user), data)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        return _form(request, values, _field_errors(exc), 422)
    except Conflict:
        session.rollback()
        return _form(request, values, {"slug": gettext(SLUG_TAKEN)}, 409)
    flash(request, gettext("The page was created."))
    return RedirectResponse(f"/knowledge/{page.slug}", status_code=303)


@router.post("/knowledge/preview", response_class=HTMLResponse)
def preview(user: WriterUser, body: str = Form("")) -> Response:
    """The Markdown as it will show, sanitised (the edit form's preview, by HTMX)."""
    html = render_markdown(body[:100_000]) or Markup("<p class='muted'>{}</p>").format(
        gettext("Nothing to preview yet.")
    )
    return HTMLResponse(str(html))


# ---------------------------------------------------------------- one page


def _page(session: Session, slug: str) -> KnowledgePage:
    return service.get_page_by_slug(session, slug)


@router.get("/knowledge/{slug}", response_class=HTMLResponse)
def show_page(request: Request, slug: str, session: DbSession, user: SignedInUser) -> Response:
    page = _page(session, slug)
    context = {
        "page": page,
        "tags": service.tags_of(session, [page.id])[page.id],
        "kinds": _kinds(),
        "revisions": documents.history(session, service.ENTITY, page.id)[:10],
        "can_write": user.can_write,
        "agenda": service.split_agenda(page.body) if page.is_template else [],
    }
    return render(request, "knowledge/page.html", context)


@router.get("/knowledge/{slug}/edit", response_class=HTMLResponse)
def edit_page(request: Request, slug: str, session: DbSession, user: SignedInUser) -> Response:
    if not user.can_write:
        return _no_writing(request)
    page = _page(session, slug)
    tags = service.tags_of(session, [page.id])[page.id]
    values = {"title": page.title, "kind": page.kind, "body": page.body,
              "tags": ", ".join(tags), "version": page.version}  # fmt: skip
    return _form(request, values, {}, page=page)


@router.post("/knowledge/{slug}/edit", response_class=HTMLResponse)
def save_page(
    request: Request,
    slug: str,
    session: DbSession,
    user: WriterUser,
    title: str = Form(""),
    kind: str = Form("other"),
    body: str = Form(""),
    tags: str = Form(""),
    version: str = Form(""),
) -> Response:
    page = _page(session, slug)
    values: dict[str, Any] = {"title": title, "kind": kind, "body": body, "tags": tags,
                              "version": version}  # fmt: skip
    try:
        data = PageEdit(title=title, kind=kind, body=body, tags=tags, version=version)
        changed = service.update_page(session, actor_of(user), page, data)
    except (ValidationError, InvalidInput) as exc:
        session.rollback()
        return _form(request, values, _field_errors(exc), 422, page=page)
    except EditConflict as conflict:
        session.rollback()
        values["version"] = conflict.current_version
        return _form(request, values, {}, 409, page=page, conflict=conflict)
    flash(request, gettext("Saved.") if changed else gettext("Nothing changed."))
    return RedirectResponse(f"/knowledge/{page.slug}", status_code=303)


@router.post("/knowledge/{slug}/archive", response_class=HTMLResponse)
def archive_page(request: Request, slug: str, session: DbSession, user: WriterUser) -> Response:
    page = _page(session, slug)
    service.set_archived(session, actor_of(user), page, True)
    flash(
        request, gettext("The page was archived. It no longer shows in lists, templates or search.")
    )
    return RedirectResponse(f"/knowledge/{page.slug}", status_code=303)


@router.post("/knowledge/{slug}/unarchive", response_class=HTMLResponse)
def unarchive_page(request: Request, slug: str, session: DbSession, user: WriterUser) -> Response:
    page = _page(session, slug)
    service.set_archived(session, actor_of(user), page, False)
    flash(request, gettext("The page is back in the knowledge base."))
    return RedirectResponse(f"/knowledge/{page.slug}", status_code=303)


# ---------------------------------------------------------------- history


@router.get("/knowledge/{slug}/history", response_class=HTMLResponse)
def page_history(request: Request, slug: str, session: DbSession, user: SignedInUser) -> Response:
    page = _page(session, slug)
    context = {"page": page, "revisions": documents.history(session, service.ENTITY, page.id)}
    return render(request, "knowledge/history.html", context)


@router.get("/knowledge/{slug}/versions/{page_version:int}", response_class=HTMLResponse)
def page_version(
    request: Request, slug: str, page_version: int, session: DbSession, user: SignedInUser
) -> Response:
    page = _page(session, slug)
    change = service.version_change(session, page, page_version)
    return render(request, "knowledge/version.html", {"page": page, "change": change,
                                                      "kinds": _kinds()})  # fmt: skip
