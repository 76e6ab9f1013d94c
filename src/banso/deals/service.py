"""Inquiries and deals through the pipeline, winning them into accounts and contracts.

Every write checks the whole resulting deal (stage rules, references, custom fields) before
anything is written, so a refused change leaves the session untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from banso.accounts import customfields
from banso.accounts.externalids import delete_external_ids, external_ids_of, set_external_ids
from banso.accounts.models import COMPANY_SIZES, Account, Contact
from banso.accounts.schemas import AccountIn
from banso.accounts.service import create_account, custom_matches, find
from banso.audit.service import Actor, record
from banso.auth.models import User
from banso.contracts.schemas import ContractIn
from banso.contracts.service import create_contract
from banso.deals.models import STAGE_OUTCOMES, Deal, LostReason, PipelineStage
from banso.deals.schemas import (
    DB_INT_MAX,
    DealIn,
    DealOut,
    DealPatch,
    ReasonIn,
    ReasonPatch,
    StageIn,
    StagePatch,
    WinIn,
)
from banso.errors import ConfirmationRequired, Conflict, FieldError, InvalidInput, NotFound
from banso.listing import Page, SortKey, paginate
from banso.settings import Settings

CLOSED_OUTCOMES = ("won", "lost", "archived")
_STAGE_POSITION = (
    select(PipelineStage.position).where(PipelineStage.key == Deal.stage_key).scalar_subquery()
)
DEAL_SORTS = {
    "id": SortKey(Deal.id),
    "title": SortKey(Deal.title),
    "stage": SortKey(_STAGE_POSITION),
    "inquiry_date": SortKey(Deal.inquiry_date, date(1, 1, 1)),
    "expected_close_date": SortKey(Deal.expected_close_date, date(9999, 12, 31)),
    "closed_date": SortKey(Deal.closed_date, date(1, 1, 1)),
    "budget": SortKey(Deal.budget, -1),
    "expected_mrr": SortKey(Deal.expected_mrr, -1),
    "created_at": SortKey(Deal.created_at),
    "updated_at": SortKey(Deal.updated_at),
}
# Columns a caller sets directly; the rest (stage rules, custom, ids) go through checks.
_PLAIN = (
    "title",
    "account_id",
    "contact_id",
    "company_name",
    "source_channel",
    "company_size",
    "problem",
    "budget",
    "currency",
    "expected_mrr",
    "story",
    "stage_key",
    "lost_reason_key",
    "lost_reason_text",
    "owner_id",
    "inquiry_date",
    "expected_close_date",
    "closed_date",
)


def today(session: Session) -> date:
    """Today in the workspace timezone (the session may carry it; else the default)."""
    zone = session.info.get("timezone") or Settings.model_fields["timezone"].default
    return datetime.now(ZoneInfo(zone)).date()


# ------------------------------------------------------------------ reading


def get_deal(session: Session, deal_id: int) -> Deal:
    deal = find(session, Deal, deal_id)
    if deal is None:
        raise NotFound("deal", deal_id)
    return deal


def _outcomes(session: Session) -> dict[str, str]:
    return dict(session.execute(select(PipelineStage.key, PipelineStage.outcome)).all())


def deal_out(
    session: Session,
    deal: Deal,
    ext: dict[str, str] | None = None,
    outcomes: dict[str, str] | None = None,
) -> DealOut:
    if ext is None:
        ext = external_ids_of(session, "deal", [deal.id]).get(deal.id, {})
    if outcomes is None:
        outcomes = _outcomes(session)
    values = {name: getattr(deal, name) for name in _PLAIN}
    return DealOut(
        id=deal.id,
        **values,
        outcome=outcomes.get(deal.stage_key, "open"),
        contract_id=deal.contract_id,
        custom=deal.custom or {},
        external_ids=ext,
        version=deal.version,
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


def deals_out(session: Session, deals: list[Deal]) -> list[DealOut]:
    ext = external_ids_of(session, "deal", [d.id for d in deals])
    outcomes = _outcomes(session)
    return [deal_out(session, d, ext.get(d.id, {}), outcomes) for d in deals]


def _view(session: Session, deal: Deal) -> dict[str, Any]:
    return deal_out(session, deal).model_dump(mode="json", exclude={"created_at", "updated_at"})


# ------------------------------------------------------------------ checks


def _stage(session: Session, key: str) -> PipelineStage:
    stage = session.get(PipelineStage, key) if len(key) <= 40 else None
    if stage is None:
        known = session.scalars(select(PipelineStage.key).order_by(PipelineStage.position))
        raise InvalidInput.one("stage_key", f"unknown stage {key!r}; use one of {', '.join(known)}")
    return stage


def _reason_keys(session: Session, kind: str) -> str:
    keys = session.scalars(
        select(LostReason.key)
        .where(LostReason.kind == kind, LostReason.is_active.is_(True))
        .order_by(LostReason.position, LostReason.key)
    )
    return ", ".join(keys)


def _reason(session: Session, key: str) -> LostReason:
    reason = session.get(LostReason, key) if len(key) <= 40 else None
    if reason is None:
        known = session.scalars(select(LostReason.key).order_by(LostReason.position))
        raise InvalidInput.one(
            "lost_reason_key", f"unknown reason {key!r}; use one of {', '.join(known)}"
        )
    return reason


def _check_refs(session: Session, state: dict[str, Any], sent: set[str]) -> None:
    """Account, contact and owner must exist; a contact must belong to the deal's account."""
    errors: list[FieldError] = []
    account_id, contact_id, owner_id = state["account_id"], state["contact_id"], state["owner_id"]
    if (
        "account_id" in sent
        and account_id is not None
        and find(session, Account, account_id) is None
    ):
        errors.append(FieldError("account_id", f"account {account_id} does not exist"))
    if "owner_id" in sent and owner_id is not None and find(session, User, owner_id) is None:
        errors.append(FieldError("owner_id", f"user {owner_id} does not exist"))
    if contact_id is not None and sent & {"contact_id", "account_id"}:
        contact = find(session, Contact, contact_id)
        if contact is None:
            errors.append(FieldError("contact_id", f"contact {contact_id} does not exist"))
        elif account_id is not None and contact.account_id != account_id:
            errors.append(
                FieldError(
                    "contact_id",
                    f"contact {contact_id} belongs to account {contact.account_id}, "
                    f"not to the deal's account {account_id}",
                )
            )
    if state["account_id"] is None and state["company_name"] is None:
        errors.append(
            FieldError("company_name", "name the company, or link the deal to an account")
        )
    if errors:
        raise InvalidInput(errors)


def _settle_stage(
    session: Session,
    state: dict[str, Any],
    sent: set[str],
    prior: tuple[str, str | None] | None,
) -> None:
    """Apply the pipeline's rules to ``state`` (the deal as it would be after the change).

    A lost or archived deal needs a reason of that kind; a deal moving back to an open stage
    forgets its reason and closed date; a deal reaching a closed stage gets today as its
    closed date unless one is given. ``prior`` is the deal's (outcome, reason) before.
    """
    prior_outcome, prior_reason = prior or (None, None)
    stage = _stage(session, state["stage_key"])
    outcome = stage.outcome
    reason_key = state["lost_reason_key"]
    if "lost_reason_key" in sent and reason_key is not None:
        reason = _reason(session, reason_key)
        if not reason.is_active and reason_key != prior_reason:
            raise InvalidInput.one(
                "lost_reason_key",
                f"reason {reason_key!r} is no longer in use; "
                f"use one of {_reason_keys(session, reason.kind)}",
            )
    if outcome in ("lost", "archived"):
        _need_reason(session, stage, reason_key)
    else:
        for name in ("lost_reason_key", "lost_reason_text"):
            if name in sent and state[name] is not None:
                raise InvalidInput.one(
                    name,
                    f"only a lost or archived deal has a lost reason; "
                    f"stage {stage.key!r} is {outcome}",
                )
        state["lost_reason_key"] = state["lost_reason_text"] = None
    if outcome == "open":
        if "closed_date" in sent and state["closed_date"] is not None:
            raise InvalidInput.one(
                "closed_date", f"an open deal has no closed date; stage {stage.key!r} is open"
            )
        state["closed_date"] = None
    elif "closed_date" not in sent and (state["closed_date"] is None or prior_outcome == "open"):
        state["closed_date"] = today(session)


def _need_reason(session: Session, stage: PipelineStage, reason_key: str | None) -> None:
    kind = stage.outcome
    if reason_key is None:
        raise InvalidInput.one(
            "lost_reason_key",
            f"stage {stage.key!r} is {kind}: give a lost_reason_key of kind {kind} "
            f"({_reason_keys(session, kind)})",
        )
    reason = _reason(session, reason_key)
    if reason.kind != kind:
        raise InvalidInput.one(
            "lost_reason_key",
            f"{reason_key!r} is a reason of kind {reason.kind}; stage {stage.key!r} needs one "
            f"of kind {kind} ({_reason_keys(session, kind)})",
        )


def _keep_with_contract(session: Session, deal: Deal, state: dict[str, Any]) -> None:
    """A deal won into a contract stays won and on that contract's account.

    Otherwise analyses would count a deal as lost or open while its contract earns MRR, and the
    deal could never be won again. Deleting the contract releases the deal.
    """
    if deal.contract_id is None:
        return
    release = (
        f"deal {deal.id} was won with contract {deal.contract_id}; if the win was a mistake, "
        f"delete that contract first (DELETE /api/v1/contracts/{deal.contract_id}?confirm=true)"
    )
    if _stage(session, state["stage_key"]).outcome != "won":
        raise InvalidInput.one("stage_key", f"{release}, then move the deal")
    if state["account_id"] != deal.account_id:
        raise InvalidInput.one("account_id", f"{release}, then link another account")


def _first_stage(session: Session) -> str:
    key = session.scalar(
        select(PipelineStage.key)
        .where(PipelineStage.outcome == "open")
        .order_by(PipelineStage.position, PipelineStage.key)
        .limit(1)
    )
    if key is None:
        raise InvalidInput.one("stage_key", "the pipeline has no open stage; name a stage_key")
    return key


def _stale(session: Session, deal: Deal, version: int | None) -> None:
    if version is not None and version != deal.version:
        raise Conflict(
            f"deal {deal.id} was changed by someone else (you read version {version}, "
            f"it is now {deal.version}); reload and apply your change again",
            _view(session, deal),
        )


# ------------------------------------------------------------------ writing


def create_deal(session: Session, actor: Actor, data: DealIn) -> Deal:
    state = data.model_dump(include=set(_PLAIN))
    sent = set(data.model_fields_set) | {"account_id", "owner_id"}
    if state["stage_key"] is None:
        state["stage_key"] = _first_stage(session)
    _check_refs(session, state, sent)
    _settle_stage(session, state, sent, prior=None)
    custom = customfields.validate_custom(session, "deal", data.custom)
    deal = Deal(**state, custom=custom)
    session.add(deal)
    session.flush()
    if data.external_ids:
        set_external_ids(session, "deal", deal.id, data.external_ids)
    record(session, actor, "create", "deal", deal.id, None, _view(session, deal))
    return deal


def update_deal(session: Session, actor: Actor, deal_id: int, data: DealPatch) -> Deal:
    deal = get_deal(session, deal_id)
    _stale(session, deal, data.version)
    before = _view(session, deal)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    sent = set(changes)
    state = {name: getattr(deal, name) for name in _PLAIN} | {
        k: v for k, v in changes.items() if k in _PLAIN
    }
    _check_refs(session, state, sent)
    _settle_stage(session, state, sent, prior=(before["outcome"], deal.lost_reason_key))
    _keep_with_contract(session, deal, state)
    if "custom" in changes:
        deal.custom = customfields.validate_custom(
            session, "deal", changes["custom"] or {}, deal.custom
        )
    if "external_ids" in changes:
        set_external_ids(session, "deal", deal.id, changes["external_ids"] or {})
    for name, value in state.items():
        setattr(deal, name, value)
    # JSON and external ids do not bump the version on their own; any change must.
    deal.updated_at = datetime.now(deal.updated_at.tzinfo)
    session.flush()
    record(session, actor, "update", "deal", deal.id, before, _view(session, deal))
    return deal


def delete_deal(session: Session, actor: Actor, deal_id: int, *, confirm: bool) -> None:
    """Delete a deal; without ``confirm`` nothing happens and the error says what would go."""
    deal = get_deal(session, deal_id)
    if not confirm:
        kept = f"; its contract {deal.contract_id} is kept" if deal.contract_id else ""
        raise ConfirmationRequired(
            f"deleting deal {deal_id} ({deal.title}) cannot be undone except from the audit "
            f"log{kept}. Confirm to proceed.",
            {"deals": 1, "contracts_kept": 1 if deal.contract_id else 0},
        )
    before = _view(session, deal)
    delete_external_ids(session, "deal", [deal_id])
    session.delete(deal)
    session.flush()
    record(session, actor, "delete", "deal", deal_id, before, None)


# ------------------------------------------------------------------ winning


@dataclass
class WinResult:
    deal: Deal
    account_id: int
    account_created: bool
    contract_id: int


def won_stage(session: Session) -> PipelineStage:
    """The pipeline's first won stage (the pipeline always keeps one)."""
    stage = session.scalar(
        select(PipelineStage)
        .where(PipelineStage.outcome == "won")
        .order_by(PipelineStage.position, PipelineStage.key)
        .limit(1)
    )
    if stage is None:  # the taxonomy rules prevent this; say how to repair it anyway
        raise InvalidInput.one("stage_key", "the pipeline has no won stage; add one first")
    return stage


def _account_for_win(
    session: Session, actor: Actor, deal: Deal, data: WinIn
) -> tuple[Account, bool]:
    """The account the won deal belongs to: linked as asked, or created from the company."""
    account_id = data.account_id
    if account_id is None and data.company_name is None:
        account_id = deal.account_id
    if account_id is not None:
        if data.domains:
            raise InvalidInput.one("domains", "domains are only for a new account; leave them out")
        account = find(session, Account, account_id)
        if account is None:
            raise InvalidInput.one("account_id", f"account {account_id} does not exist")
        return account, False
    name = data.company_name or deal.company_name
    if name is None:
        raise InvalidInput.one(
            "company_name", "the deal names no company; give company_name or account_id"
        )
    account = create_account(
        session,
        actor,
        AccountIn(
            name=name,
            domains=data.domains,
            company_size=deal.company_size,
            source=deal.source_channel,
            owner_id=deal.owner_id,
        ),
    )
    return account, True


def win_deal(session: Session, actor: Actor, deal_id: int, data: WinIn) -> WinResult:
    """Win a deal: link or create its account, start the first contract, move it to won.

    All of it happens in one savepoint, so a refused contract leaves no new account behind.
    """
    deal = get_deal(session, deal_id)
    _stale(session, deal, data.version)
    if deal.contract_id is not None:
        raise Conflict(
            f"deal {deal_id} is already won with contract {deal.contract_id}; "
            "record further changes on that contract"
        )
    before = _view(session, deal)
    with session.begin_nested():
        account, created = _account_for_win(session, actor, deal, data)
        contract = create_contract(
            session,
            actor,
            ContractIn(
                account_id=account.id,
                plan=data.plan,
                mrr=data.mrr,
                currency=data.currency or deal.currency,
                seats=data.seats,
                start_date=data.start_date,
                end_date=data.end_date,
                auto_renew=data.auto_renew,
                status=data.status,
                reason=data.reason or f"won deal {deal.id}: {deal.title}",
                external_ids=data.contract_external_ids,
            ),
        )
        deal.account_id = account.id
        if deal.contact_id is not None and not created:
            contact = session.get(Contact, deal.contact_id)
            if contact is not None and contact.account_id != account.id:
                deal.contact_id = None  # the contact belongs to another company
        deal.stage_key = won_stage(session).key
        deal.lost_reason_key = deal.lost_reason_text = None
        deal.closed_date = data.closed_date or today(session)
        deal.contract_id = contract.id
        deal.updated_at = datetime.now(deal.updated_at.tzinfo)
        session.flush()
        after = _view(session, deal) | {"won": {"account_created": created}}
        record(session, actor, "update", "deal", deal.id, before, after)
    return WinResult(deal, account.id, created, contract.id)


# ------------------------------------------------------------------ listing


@dataclass
class DealFilter:
    stage: str | None = None
    outcome: str | None = None
    source_channel: str | None = None
    company_size: str | None = None
    owner_id: int | None = None
    account_id: int | None = None
    lost_reason_key: str | None = None
    inquiry_from: date | None = None
    inquiry_to: date | None = None
    q: str | None = None
    custom: dict[str, str] | None = None


def _check_filter(session: Session, f: DealFilter) -> None:
    """Refuse filter values that cannot match anything by mistake, naming the parameter."""
    errors: list[FieldError] = []
    for spec in fields(f):
        value = getattr(f, spec.name)
        if isinstance(value, str) and "\x00" in value:
            errors.append(FieldError(spec.name, "contains a NUL character (\\x00); remove it"))
        elif isinstance(value, int) and not -(2**31) <= value <= DB_INT_MAX:
            errors.append(FieldError(spec.name, f"must be between {-(2**31)} and {DB_INT_MAX}"))
    if errors:
        raise InvalidInput(errors)
    if f.company_size is not None and f.company_size not in COMPANY_SIZES:
        raise InvalidInput.one("company_size", f"use one of {', '.join(COMPANY_SIZES)}")
    if f.outcome is not None and f.outcome not in STAGE_OUTCOMES:
        raise InvalidInput.one("outcome", f"use one of {', '.join(STAGE_OUTCOMES)}")
    if f.stage is not None:
        try:
            _stage(session, f.stage)
        except InvalidInput as exc:
            raise InvalidInput.one("stage", exc.errors[0].message) from None
    if f.lost_reason_key is not None:
        _reason(session, f.lost_reason_key)
    if f.inquiry_from and f.inquiry_to and f.inquiry_from > f.inquiry_to:
        raise InvalidInput.one("inquiry_to", "is before inquiry_from")


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    return func.lower(column).contains(text.lower(), autoescape=True)


def _search(q: str) -> ColumnElement[bool]:
    """Title, the company name as typed on the inquiry, or the linked account's name."""
    text = q.strip()
    account_named = exists().where(Account.id == Deal.account_id, _contains(Account.name, text))
    return or_(_contains(Deal.title, text), _contains(Deal.company_name, text), account_named)


def filter_deals(session: Session, stmt: Select[Any], f: DealFilter) -> Select[Any]:
    _check_filter(session, f)
    columns = {
        "stage": Deal.stage_key,
        "source_channel": Deal.source_channel,
        "company_size": Deal.company_size,
        "owner_id": Deal.owner_id,
        "account_id": Deal.account_id,
        "lost_reason_key": Deal.lost_reason_key,
    }
    for name, column in columns.items():
        value = getattr(f, name)
        if value is not None:
            stmt = stmt.where(column == value)
    if f.outcome is not None:
        keys = select(PipelineStage.key).where(PipelineStage.outcome == f.outcome)
        stmt = stmt.where(Deal.stage_key.in_(keys))
    if f.inquiry_from is not None:
        stmt = stmt.where(Deal.inquiry_date >= f.inquiry_from)
    if f.inquiry_to is not None:
        stmt = stmt.where(Deal.inquiry_date <= f.inquiry_to)
    if f.q and f.q.strip():
        stmt = stmt.where(_search(f.q))
    for key, value in (f.custom or {}).items():
        stmt = stmt.where(custom_matches(session, "deal", Deal.custom, key, value))
    return stmt


def count_deals(session: Session, f: DealFilter) -> int:
    """How many deals match ``f`` (for progress while listing them all)."""
    stmt = filter_deals(session, select(func.count()).select_from(Deal), f)
    return session.scalar(stmt) or 0


def list_deals(
    session: Session,
    f: DealFilter,
    *,
    sort: str = "-id",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Deal]:
    stmt = filter_deals(session, select(Deal), f)
    return paginate(
        session,
        stmt,
        id_column=Deal.id,
        sortable=DEAL_SORTS,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


# ------------------------------------------------------------------ pipeline and reasons
# Stages and reasons are keyed by text, while audit entries carry an integer id: their
# entries use entity_id 0 and name the key in ``before``/``after``.


def _stage_counts(session: Session) -> dict[str, int]:
    stmt = select(Deal.stage_key, func.count()).group_by(Deal.stage_key)
    return {key: int(n) for key, n in session.execute(stmt)}


def _reason_counts(session: Session) -> dict[str, int]:
    stmt = (
        select(Deal.lost_reason_key, func.count())
        .where(Deal.lost_reason_key.is_not(None))
        .group_by(Deal.lost_reason_key)
    )
    return {str(key): int(n) for key, n in session.execute(stmt)}


def _stage_view(stage: PipelineStage, deals: int) -> dict[str, Any]:
    names = ("key", "label_ja", "label_en", "position", "outcome")
    return {name: getattr(stage, name) for name in names} | {"deals": deals}


def _reason_view(reason: LostReason, deals: int) -> dict[str, Any]:
    names = ("key", "label_ja", "label_en", "kind", "position", "is_active")
    return {name: getattr(reason, name) for name in names} | {"deals": deals}


def list_stages(session: Session) -> list[dict[str, Any]]:
    """The pipeline in order, each stage with the number of deals in it."""
    counts = _stage_counts(session)
    stages = session.scalars(
        select(PipelineStage).order_by(PipelineStage.position, PipelineStage.key)
    )
    return [_stage_view(s, counts.get(s.key, 0)) for s in stages]


def list_reasons(session: Session, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    """Lost and archive reasons in order, each with the number of deals giving it."""
    counts = _reason_counts(session)
    stmt = select(LostReason).order_by(LostReason.position, LostReason.key)
    if not include_inactive:
        stmt = stmt.where(LostReason.is_active.is_(True))
    return [_reason_view(r, counts.get(r.key, 0)) for r in session.scalars(stmt)]


def get_stage(session: Session, key: str) -> PipelineStage:
    stage = session.get(PipelineStage, key) if len(key) <= 40 else None
    if stage is None:
        raise NotFound("pipeline stage", repr(key))
    return stage


def get_reason(session: Session, key: str) -> LostReason:
    reason = session.get(LostReason, key) if len(key) <= 40 else None
    if reason is None:
        raise NotFound("lost reason", repr(key))
    return reason


def _deals_in_stage(session: Session, key: str) -> int:
    return session.scalar(select(func.count()).where(Deal.stage_key == key)) or 0


def _deals_with_reason(session: Session, key: str) -> int:
    return session.scalar(select(func.count()).where(Deal.lost_reason_key == key)) or 0


def _other_won_stages(session: Session, key: str) -> int:
    stmt = select(func.count()).where(PipelineStage.outcome == "won", PipelineStage.key != key)
    return session.scalar(stmt) or 0


def create_stage(session: Session, actor: Actor, data: StageIn) -> dict[str, Any]:
    if session.get(PipelineStage, data.key) is not None:
        raise Conflict(f"a pipeline stage {data.key!r} already exists; choose another key")
    stage = PipelineStage(**data.model_dump())
    session.add(stage)
    session.flush()
    view = _stage_view(stage, 0)
    record(session, actor, "create", "pipeline_stage", 0, None, view)
    return view


def update_stage(session: Session, actor: Actor, key: str, data: StagePatch) -> dict[str, Any]:
    """Relabel, move or change a stage's outcome (the latter only while no deal is in it)."""
    stage = get_stage(session, key)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.one(name, "cannot be null; leave it out to keep it")
    in_use = _deals_in_stage(session, key)
    before = _stage_view(stage, in_use)
    new_outcome = changes.get("outcome", stage.outcome)
    if new_outcome != stage.outcome:
        if in_use:
            raise Conflict(
                f"{in_use} deals are in stage {key!r}; move them to another stage before "
                f"changing its outcome from {stage.outcome} to {new_outcome}"
            )
        if stage.outcome == "won" and not _other_won_stages(session, key):
            raise InvalidInput.one(
                "outcome", f"{key!r} is the only won stage; the pipeline needs at least one"
            )
    for name, value in changes.items():
        setattr(stage, name, value)
    session.flush()
    view = _stage_view(stage, in_use)
    record(session, actor, "update", "pipeline_stage", 0, before, view)
    return view


def delete_stage(session: Session, actor: Actor, key: str) -> None:
    """Delete a stage no deal uses; the pipeline keeps at least one won stage."""
    stage = get_stage(session, key)
    in_use = _deals_in_stage(session, key)
    if in_use:
        raise Conflict(
            f"{in_use} deals are in stage {key!r}; move them to another stage before deleting it"
        )
    if stage.outcome == "won" and not _other_won_stages(session, key):
        raise Conflict(f"{key!r} is the only won stage; the pipeline needs at least one")
    before = _stage_view(stage, 0)
    session.delete(stage)
    session.flush()
    record(session, actor, "delete", "pipeline_stage", 0, before, None)


def _check_order(keys: list[str], known: list[str], what: str) -> None:
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    unknown = sorted(set(keys) - set(known))
    missing = [k for k in known if k not in set(keys)]
    problems = []
    if repeated:
        problems.append(f"repeated: {', '.join(repeated)}")
    if unknown:
        problems.append(f"unknown {what}: {', '.join(map(repr, unknown))}")
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if problems:
        raise InvalidInput.one("keys", f"list every {what} once; " + "; ".join(problems))


def reorder_stages(session: Session, actor: Actor, keys: list[str]) -> list[dict[str, Any]]:
    """Put the stages in the given order (positions 10, 20, 30, ...)."""
    stages = {s.key: s for s in session.scalars(select(PipelineStage))}
    _check_order(keys, sorted(stages), "stage")
    before = [s.key for s in sorted(stages.values(), key=lambda s: (s.position, s.key))]
    for position, key in enumerate(keys, start=1):
        stages[key].position = position * 10
    session.flush()
    record(session, actor, "update", "pipeline_stage", 0, {"order": before}, {"order": keys})
    return list_stages(session)


def create_reason(session: Session, actor: Actor, data: ReasonIn) -> dict[str, Any]:
    if session.get(LostReason, data.key) is not None:
        raise Conflict(f"a lost reason {data.key!r} already exists; choose another key")
    reason = LostReason(**data.model_dump())
    session.add(reason)
    session.flush()
    view = _reason_view(reason, 0)
    record(session, actor, "create", "lost_reason", 0, None, view)
    return view


def update_reason(session: Session, actor: Actor, key: str, data: ReasonPatch) -> dict[str, Any]:
    """Relabel, move, (de)activate a reason; its kind changes only while no deal gives it."""
    reason = get_reason(session, key)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput.one(name, "cannot be null; leave it out to keep it")
    in_use = _deals_with_reason(session, key)
    before = _reason_view(reason, in_use)
    if changes.get("kind", reason.kind) != reason.kind and in_use:
        raise Conflict(
            f"{in_use} deals give reason {key!r}; its kind cannot change while they do "
            "(create a new reason instead)"
        )
    for name, value in changes.items():
        setattr(reason, name, value)
    session.flush()
    view = _reason_view(reason, in_use)
    record(session, actor, "update", "lost_reason", 0, before, view)
    return view


def delete_reason(session: Session, actor: Actor, key: str) -> None:
    reason = get_reason(session, key)
    in_use = _deals_with_reason(session, key)
    if in_use:
        raise Conflict(
            f"{in_use} deals give reason {key!r}; it cannot be deleted while they do "
            "(set is_active to false to stop offering it)"
        )
    before = _reason_view(reason, 0)
    session.delete(reason)
    session.flush()
    record(session, actor, "delete", "lost_reason", 0, before, None)


def reorder_reasons(session: Session, actor: Actor, keys: list[str]) -> list[dict[str, Any]]:
    reasons = {r.key: r for r in session.scalars(select(LostReason))}
    _check_order(keys, sorted(reasons), "reason")
    before = [r.key for r in sorted(reasons.values(), key=lambda r: (r.position, r.key))]
    for position, key in enumerate(keys, start=1):
        reasons[key].position = position * 10
    session.flush()
    record(session, actor, "update", "lost_reason", 0, {"order": before}, {"order": keys})
    return list_reasons(session)
