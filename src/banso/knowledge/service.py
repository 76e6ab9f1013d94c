"""Knowledge pages: principles of conduct (行動指針), playbook write-ups and proposal/agenda
templates, in Markdown with tags and a history of every saved version.

Pages are archived rather than deleted, so a meeting that started from a template keeps its
link. Edits go through :func:`banso.documents.service.save_fields`, which refuses a save
based on an old version and offers the writer a merge instead of losing either change.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor, record
from banso.documents import service as documents
from banso.documents.markdown import plain_text
from banso.errors import Conflict, InvalidInput, NotFound
from banso.knowledge.models import PAGE_KINDS, KnowledgePage, KnowledgeTag
from banso.knowledge.schemas import PageEdit, PageIn
from banso.listing import Page, SortKey, paginate
from banso.search.documents import Doc, drop, put

ENTITY = "knowledge_page"
TEXT_FIELDS = ("title", "body")
PAGE_SORTS = {
    "title": SortKey(KnowledgePage.title),
    "updated_at": SortKey(KnowledgePage.updated_at),
}
_MAX_SLUG = 80
_HEADING = re.compile(r"^## +(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
MAX_TOPIC = 300


# ---------------------------------------------------------------- reading


def get_page(session: Session, page_id: int) -> KnowledgePage:
    page = session.get(KnowledgePage, page_id) if 1 <= page_id <= 2**31 - 1 else None
    if page is None:
        raise NotFound("knowledge page", page_id)
    return page


def get_page_by_slug(session: Session, slug: str) -> KnowledgePage:
    page = session.scalar(select(KnowledgePage).where(KnowledgePage.slug == slug[: _MAX_SLUG + 40]))
    if page is None:
        raise NotFound("knowledge page", slug)
    return page


def tags_of(session: Session, page_ids: list[int]) -> dict[int, list[str]]:
    """Each page's tags, alphabetically."""
    found: dict[int, list[str]] = {page_id: [] for page_id in page_ids}
    if not page_ids:
        return found
    rows = session.execute(
        select(KnowledgeTag.page_id, KnowledgeTag.tag)
        .where(KnowledgeTag.page_id.in_(page_ids))
        .order_by(KnowledgeTag.tag)
    )
    for page_id, tag in rows:
        found[page_id].append(tag)
    return found


def all_tags(session: Session) -> list[tuple[str, int]]:
    """Every tag in use on an active page with how many pages carry it, most used first."""
    count = func.count(KnowledgeTag.page_id)
    rows = session.execute(
        select(KnowledgeTag.tag, count)
        .join(KnowledgePage, KnowledgePage.id == KnowledgeTag.page_id)
        .where(KnowledgePage.is_archived.is_(False))
        .group_by(KnowledgeTag.tag)
        .order_by(count.desc(), KnowledgeTag.tag)
    )
    return [(tag, int(n)) for tag, n in rows]


@dataclass(frozen=True)
class PageFilter:
    kind: str | None = None
    tag: str | None = None
    archived: bool = False
    ids: tuple[int, ...] | None = None  # pages a search found


def _filtered(f: PageFilter) -> Select[Any]:
    if f.kind is not None and f.kind not in PAGE_KINDS:
        raise InvalidInput.one(
            "kind", f"unknown kind {f.kind!r}; use one of {', '.join(PAGE_KINDS)}"
        )
    stmt = select(KnowledgePage).where(KnowledgePage.is_archived.is_(f.archived))
    if f.kind:
        stmt = stmt.where(KnowledgePage.kind == f.kind)
    if f.tag:
        stmt = stmt.where(
            KnowledgePage.id.in_(select(KnowledgeTag.page_id).where(KnowledgeTag.tag == f.tag))
        )
    if f.ids is not None:
        stmt = stmt.where(KnowledgePage.id.in_(f.ids))
    return stmt


def list_pages(
    session: Session,
    f: PageFilter,
    *,
    sort: str = "-updated_at",
    cursor: str | None = None,
    limit: int = 30,
) -> Page[KnowledgePage]:
    """One page of knowledge pages matching ``f``."""
    return paginate(
        session, _filtered(f), id_column=KnowledgePage.id, sortable=PAGE_SORTS, sort=sort,
        cursor=cursor, limit=limit,
    )  # fmt: skip


def template_pages(session: Session) -> list[KnowledgePage]:
    """The active template pages (a meeting agenda can start from one), by title."""
    return list(
        session.scalars(
            select(KnowledgePage)
            .where(KnowledgePage.is_template.is_(True), KnowledgePage.is_archived.is_(False))
            .order_by(KnowledgePage.title, KnowledgePage.id)
        )
    )


def agenda_items(session: Session, page_id: int) -> list[tuple[str, str]]:
    """A template page's agenda: each ``## heading`` a topic (論点), the text under it our stance.

    Text before the first heading is the template's own introduction and is left out; a
    ``## `` inside a fenced code block is no heading.
    """
    page = get_page(session, page_id)
    if not page.is_template:
        raise InvalidInput.one(
            "template", f"knowledge page {page.id} ({page.title}) is not a template page"
        )
    items = split_agenda(page.body)
    if not items:
        raise InvalidInput.one(
            "template",
            f"the template page {page.title!r} has no '## ' heading; each agenda item starts "
            "with a line '## topic'",
        )
    return items


def split_agenda(markdown: str) -> list[tuple[str, str]]:
    """(topic, text under it) for each ``## `` heading of ``markdown``."""
    items: list[tuple[str, list[str]]] = []
    fenced: str | None = None
    for line in markdown.replace("\r\n", "\n").split("\n"):
        fence = _FENCE.match(line)
        if fence:
            marker = fence.group(1)
            fenced = None if fenced == marker else (fenced or marker)
        heading = _HEADING.match(line) if fenced is None else None
        if heading and heading.group(1).strip():
            items.append((heading.group(1).strip()[:MAX_TOPIC], []))
        elif items:
            items[-1][1].append(line)
    return [(topic, "\n".join(lines).strip()) for topic, lines in items]


# ---------------------------------------------------------------- slugs


def slug_base(title: str) -> str:
    """A URL name from the title's letters and digits (ASCII); "page" when there are none.

    Japanese titles keep a plain ASCII address (page, page-2, …) rather than a
    percent-encoded one, which is unreadable once copied into a chat or a mail.
    """
    folded = unicodedata.normalize("NFKC", title).lower()
    words = re.findall(r"[a-z0-9]+", folded)
    base = "-".join(words)[:_MAX_SLUG].strip("-")
    return base or "page"


def _free_slug(session: Session, base: str) -> str:
    taken = set(
        session.scalars(
            select(KnowledgePage.slug).where(
                (KnowledgePage.slug == base) | KnowledgePage.slug.like(f"{base}-%")
            )
        )
    )
    if base not in taken and base not in {"new", "preview"}:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: _MAX_SLUG - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


# ---------------------------------------------------------------- writing


def _set_tags(session: Session, page: KnowledgePage, tags: list[str]) -> None:
    current = set(session.scalars(select(KnowledgeTag.tag).where(KnowledgeTag.page_id == page.id)))
    gone = current - set(tags)
    if gone:
        session.execute(
            delete(KnowledgeTag).where(KnowledgeTag.page_id == page.id, KnowledgeTag.tag.in_(gone))
        )
    for tag in tags:
        if tag not in current:
            session.add(KnowledgeTag(page_id=page.id, tag=tag))
    session.flush()


def create_page(session: Session, actor: Actor, data: PageIn) -> KnowledgePage:
    """A new page, its first revision, its tags, an audit entry and its search document."""
    if data.slug is not None:
        if session.scalar(select(KnowledgePage.id).where(KnowledgePage.slug == data.slug)):
            raise Conflict(
                f"the address /knowledge/{data.slug} is taken by another page; choose another"
            )
        slug = data.slug
    else:
        slug = _free_slug(session, slug_base(data.title))
    page = KnowledgePage(
        slug=slug, title=data.title, kind=data.kind, body=data.body,
        is_template=data.kind == "template", author_id=actor.user_id,
        updated_by_id=actor.user_id,
    )  # fmt: skip
    session.add(page)
    session.flush()
    _set_tags(session, page, data.tags)
    documents.add_revision(
        session, actor, ENTITY, page.id, page.version,
        {"title": page.title, "body": page.body, "kind": page.kind},
    )  # fmt: skip
    record(session, actor, "create", ENTITY, page.id, None, _view(page, data.tags))
    _index(session, page, data.tags)
    return page


def update_page(session: Session, actor: Actor, page: KnowledgePage, data: PageEdit) -> bool:
    """Save an edit made from ``data.version``; raises EditConflict (with merges) when stale.

    Returns whether anything changed. The tags are no part of the revisions; their changes
    are in the audit log.
    """
    session.flush()  # pending work first: the save below must not flush it with the page
    changes = {"title": data.title, "body": data.body, "kind": data.kind}
    content_changed = any(getattr(page, k) != v for k, v in changes.items())
    if data.version == page.version and content_changed:
        # Set with the saved fields so that one UPDATE (one version) carries them all.
        page.is_template = data.kind == "template"
        page.updated_by_id = actor.user_id
    with session.no_autoflush:  # the revision look-up must not flush a version of its own
        changed = documents.save_fields(
            session, actor, ENTITY, page, data.version, changes, text_fields=TEXT_FIELDS
        )
    tags_before = tags_of(session, [page.id])[page.id]
    if sorted(data.tags) != tags_before:
        _set_tags(session, page, data.tags)
        record(session, actor, "update", ENTITY, page.id, {"tags": tags_before},
               {"tags": data.tags})  # fmt: skip
        changed = True
    if changed:
        _index(session, page, data.tags)
    return changed


def set_archived(session: Session, actor: Actor, page: KnowledgePage, archived: bool) -> None:
    """Archive a page (out of lists, templates and search) or bring it back."""
    if page.is_archived == archived:
        return
    page.is_archived = archived
    page.updated_by_id = actor.user_id
    session.flush()
    action = "archive" if archived else "unarchive"
    record(session, actor, action, ENTITY, page.id, {"is_archived": not archived},
           {"is_archived": archived})  # fmt: skip
    _index(session, page, tags_of(session, [page.id])[page.id])


# ---------------------------------------------------------------- history


@dataclass(frozen=True)
class VersionChange:
    """One version of a page against the one before it."""

    version: int
    author: str
    created_at: Any
    title_before: str
    title_after: str
    body_diff: list[tuple[str, str]]
    kind_before: str | None
    kind_after: str | None


def version_change(session: Session, page: KnowledgePage, version: int) -> VersionChange:
    revisions = {r.version: r for r in documents.history(session, ENTITY, page.id)}
    if version not in revisions:
        raise NotFound(f"version of knowledge page {page.slug}", version)
    after = documents.state_at(session, ENTITY, page.id, version)
    before = documents.state_at(session, ENTITY, page.id, version - 1) if version > 1 else {}
    revision = revisions[version]
    return VersionChange(
        version=version,
        author=revision.author_label,
        created_at=revision.created_at,
        title_before=str(before.get("title", "")),
        title_after=str(after.get("title", "")),
        body_diff=documents.diff(str(before.get("body", "")), str(after.get("body", ""))),
        kind_before=before.get("kind"),
        kind_after=after.get("kind"),
    )


# ---------------------------------------------------------------- search


def _index(session: Session, page: KnowledgePage, tags: list[str]) -> None:
    """An archived page leaves search; an active one is (re)written to it."""
    if page.is_archived:
        drop(session, "knowledge_page", page.id)
    else:
        put(session, _doc(page, tags))


def _doc(page: KnowledgePage, tags: list[str]) -> Doc:
    body = page.body + ("\n\n" + " ".join(f"#{t}" for t in tags) if tags else "")
    return Doc(
        kind="knowledge_page",
        ref_id=page.id,
        account_id=None,
        author_id=page.updated_by_id or page.author_id,
        occurred_at=page.updated_at,
        title=page.title,
        body=body,
        url=f"/knowledge/{page.slug}",
    )


def search_documents(session: Session) -> Iterator[Doc]:
    """Every active page as a search document (for ``banso search reindex``)."""
    pages = session.scalars(
        select(KnowledgePage).where(KnowledgePage.is_archived.is_(False)).order_by(KnowledgePage.id)
    )
    for batch in pages.partitions(500):
        tags = tags_of(session, [p.id for p in batch])
        for page in batch:
            yield _doc(page, tags[page.id])


def _view(page: KnowledgePage, tags: list[str]) -> dict[str, Any]:
    return {
        "slug": page.slug, "title": page.title, "kind": page.kind, "tags": tags,
        "body": plain_text(page.body)[:500],
    }  # fmt: skip
