"""The duplicates page: likely duplicate accounts and contacts, a merge preview, the merge."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import merge, resolution
from banso.accounts.models import Account, Contact
from banso.errors import Conflict, InvalidInput, NotFound
from banso.i18n import N_
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of
from banso.web.templating import render

router = APIRouter()

PAGE_SIZE = 25
KINDS = ("accounts", "contacts")
# Visible names of the matching reasons and of what a merge moves (msgids).
REASON_LABELS = {
    "same_domain": N_("Same web domain"),
    "same_name": N_("Same company name"),
    "shared_email_domain": N_("Contacts share an e-mail domain"),
    "same_reading": N_("Same reading (kana)"),
    "same_email": N_("Same e-mail address"),
    "same_name_in_account": N_("Same name in one customer"),
}
MOVE_LABELS = {
    "contacts": N_("Contacts"),
    "contracts": N_("Contracts"),
    "contract_movements": N_("MRR movements"),
    "deals": N_("Deals"),
    "external_ids": N_("External ids"),
    "domains": N_("Domains"),
    "tags": N_("Tags"),
    "usage_users": N_("Product users"),
    "usage_groups": N_("Product groups"),
    "metric_snapshots": N_("Usage metric values"),
}


def _names(session: Session, kind: str, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    if kind == "accounts":
        return {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}
    return {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(ids)))}


@router.get("/duplicates", response_class=HTMLResponse)
def duplicates(
    request: Request,
    session: DbSession,
    user: SignedInUser,
    kind: str = "accounts",
    cursor: str | None = None,
) -> Response:
    if kind not in KINDS:
        raise InvalidInput.one("kind", f"must be one of {', '.join(KINDS)}")
    find = (
        resolution.find_duplicate_accounts
        if kind == "accounts"
        else resolution.find_duplicate_contacts
    )
    found = find(session, limit=PAGE_SIZE, cursor=cursor or None)
    ids = {i for p in found.items for i in (p.first_id, p.second_id)}
    context = {
        "kind": kind,
        "pairs": found.items,
        "next_cursor": found.next_cursor,
        "records": _names(session, kind, ids),
        "reason_labels": REASON_LABELS,
        "first_page": not cursor,
    }
    return render(request, "accounts/duplicates.html", context)


def _plan(session: Session, kind: str, source: int, target: int) -> dict[str, Any]:
    if kind == "accounts":
        return merge.plan_account_merge(session, source, target)
    return merge.plan_contact_merge(session, source, target)


def _preview(
    request: Request,
    session: Session,
    kind: str,
    source: int,
    target: int,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    plan = _plan(session, kind, source, target)
    context = {
        "kind": kind,
        "plan": plan,
        "records": _names(session, kind, {source, target}),
        "moves": _moved_counts(plan),
        "move_labels": MOVE_LABELS,
        **(extra or {}),
    }
    return render(request, "accounts/duplicates_preview.html", context, status_code=status_code)


def _moved_counts(plan: dict[str, Any]) -> list[tuple[str, int]]:
    """(what, how many) for everything that moves, biggest first, zeros left out."""
    counts: dict[str, int] = {}
    for key, n in plan["counts"].items():
        name = key.split(".")[0]
        counts[name] = counts.get(name, 0) + int(n)
    return sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))


def _merge(
    request: Request,
    session: Session,
    user: Any,
    kind: str,
    source: int,
    target: int,
    versions: tuple[int, int],
) -> Response:
    run = merge.merge_accounts if kind == "accounts" else merge.merge_contacts
    try:
        plan = run(
            session,
            actor_of(user),
            source,
            target,
            preview=False,
            source_version=versions[0],
            target_version=versions[1],
        )
    except Conflict as exc:
        session.rollback()
        return _preview(request, session, kind, source, target, {"stale": str(exc)}, 409)
    except NotFound:
        session.rollback()
        raise
    context = {"kind": kind, "plan": plan, "moves": _moved_counts(plan), "move_labels": MOVE_LABELS}
    return render(request, "accounts/duplicates_result.html", context)


@router.get("/duplicates/{kind}/{source:int}/{target:int}", response_class=HTMLResponse)
def merge_preview(
    request: Request, kind: str, source: int, target: int, session: DbSession, user: SignedInUser
) -> Response:
    if kind not in KINDS:
        raise NotFound("page", f"/duplicates/{kind}")
    return _preview(request, session, kind, source, target)


@router.post("/duplicates/{kind}/{source:int}/{target:int}", response_class=HTMLResponse)
def merge_execute(
    request: Request,
    kind: str,
    source: int,
    target: int,
    session: DbSession,
    user: WriterUser,
    source_version: int = Form(...),
    target_version: int = Form(...),
) -> Response:
    if kind not in KINDS:
        raise NotFound("page", f"/duplicates/{kind}")
    return _merge(request, session, user, kind, source, target, (source_version, target_version))
