"""The unmatched-usage page: product users and groups no account is known for, linked by hand."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.identity import is_free_mail, normalize_company_name
from banso.accounts.models import Account, AccountDomain
from banso.errors import InvalidInput, NotFound
from banso.events.identities import link_group, link_user, unmatched_groups, unmatched_users
from banso.events.models import UsageGroup, UsageUser
from banso.i18n import gettext
from banso.web.deps import DbSession, SignedInUser, WriterUser, actor_of
from banso.web.flash import flash
from banso.web.templating import render

router = APIRouter()
PAGE_SIZE = 50
KINDS = ("users", "groups")


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = text.removeprefix("https://").removeprefix("http://").split("/")[0]
    text = text.removeprefix("www.")
    return text or None


def _suggestions(session: Session, rows: list[Any], kind: str) -> dict[int, Account]:
    """An account per row whose domain matches the user's e-mail or the group's website."""
    wanted: dict[int, str] = {}
    for row in rows:
        if kind == "users":
            domain = _domain(row.email)
        else:
            traits = row.traits or {}
            domain = _domain(str(traits.get("website") or traits.get("domain") or "")) or None
        if domain and not is_free_mail(domain):
            wanted[row.id] = domain
    if not wanted:
        return {}
    stmt = (
        select(AccountDomain.domain, Account)
        .join(Account, Account.id == AccountDomain.account_id)
        .where(AccountDomain.domain.in_(set(wanted.values())))
    )
    by_domain = {domain: account for domain, account in session.execute(stmt)}
    return {row_id: by_domain[d] for row_id, d in wanted.items() if d in by_domain}


def _counts(session: Session) -> dict[str, int]:
    return {
        "users": session.scalar(
            select(func.count()).select_from(UsageUser).where(UsageUser.account_id.is_(None))
        )
        or 0,
        "groups": session.scalar(
            select(func.count()).select_from(UsageGroup).where(UsageGroup.account_id.is_(None))
        )
        or 0,
    }


@router.get("/usage/unmatched", response_class=HTMLResponse)
def unmatched_page(
    request: Request, session: DbSession, user: SignedInUser, kind: str = "users", after: int = 0
) -> HTMLResponse:
    if kind not in KINDS:
        raise NotFound("list", kind)
    after = max(after, 0)
    finder = unmatched_users if kind == "users" else unmatched_groups
    rows = finder(session, limit=PAGE_SIZE + 1, after=after)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    context = {
        "kind": kind,
        "rows": rows,
        "after": after,
        "next_after": rows[-1].id if more and rows else None,
        "counts": _counts(session),
        "suggested": _suggestions(session, rows, kind),
    }
    return render(request, "events/unmatched.html", context)


def resolve_account(session: Session, text: str) -> Account:
    """An account from what a person typed: its id, or its company name (any legal form,
    width or case); several accounts with that name are listed so the person can pick one."""
    value = text.strip()
    if not value:
        raise InvalidInput.one("account", gettext("Enter an account id or a company name."))
    digits = value.removeprefix("#")
    if digits.isdigit() and len(digits) < 12:
        account = session.get(Account, int(digits))
        if account is None:
            raise InvalidInput.one(
                "account", gettext("No account has the id %(id)s.") % {"id": digits}
            )
        return account
    key = normalize_company_name(value[:300])
    found = list(session.scalars(select(Account).where(Account.name_key == key).limit(6)))
    if not found:
        raise InvalidInput.one(
            "account", gettext("No account is named “%(name)s”.") % {"name": value[:100]}
        )
    if len(found) > 1:
        choices = ", ".join(f"{a.name} (#{a.id})" for a in found[:5])
        raise InvalidInput.one(
            "account",
            gettext("Several accounts have this name; enter the id of one: %(choices)s")
            % {"choices": choices},
        )
    return found[0]


@router.post("/usage/unmatched/{kind}/link", response_class=HTMLResponse)
def link(
    request: Request,
    kind: str,
    session: DbSession,
    user: WriterUser,
    identity: Annotated[str, Form(max_length=200)],
    account: Annotated[str, Form(max_length=300)] = "",
    after: Annotated[int, Form(ge=0)] = 0,
) -> Response:
    if kind not in KINDS:
        raise NotFound("list", kind)
    try:
        target = resolve_account(session, account)
        if kind == "users":
            link_user(session, actor_of(user), identity, target.id)
        else:
            link_group(session, actor_of(user), identity, target.id)
    except (InvalidInput, NotFound) as exc:
        flash(request, f"{identity}: {exc}", "error")
    else:
        flash(
            request,
            gettext("%(identity)s is now linked to %(account)s.")
            % {"identity": identity, "account": target.name},
        )
    return RedirectResponse(f"/usage/unmatched?kind={kind}&after={after}", status_code=303)
