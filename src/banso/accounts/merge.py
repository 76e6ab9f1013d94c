"""Merging duplicate accounts and contacts: preview first, move everything, keep the trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from banso.accounts.models import (
    AccountDomain,
    AccountMerge,
    AccountTag,
    Contact,
    ExternalId,
)
from banso.accounts.service import account_out, contact_out, get_account, get_contact
from banso.audit.service import Actor, record
from banso.contracts.models import Contract, ContractMovement
from banso.contracts.service import refresh_account_mrr
from banso.db import utcnow
from banso.deals.models import Deal
from banso.errors import InvalidInput

_FILLABLE = (
    "name_kana",
    "industry",
    "company_size",
    "segment",
    "source",
    "owner_id",
    "lifecycle_stage",
)
_CONTACT_FILLABLE = ("name_kana", "email", "phone", "title", "role")


def _fill_and_conflicts(
    source: dict[str, Any], target: dict[str, Any], keys: tuple[str, ...] | list[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Values the target lacks (filled from the source) and values both have but differ."""
    fill, conflicts = {}, {}
    for key in keys:
        mine, theirs = target.get(key), source.get(key)
        if theirs in (None, "", [], {}):
            continue
        if mine in (None, "", [], {}):
            fill[key] = theirs
        elif mine != theirs:
            conflicts[key] = {"kept": mine, "source": theirs}
    return fill, conflicts


def _ids(session: Session, model: Any, account_id: int) -> list[int]:
    return list(
        session.scalars(select(model.id).where(model.account_id == account_id).order_by(model.id))
    )


def plan_account_merge(session: Session, source_id: int, target_id: int) -> dict[str, Any]:
    """What merging ``source_id`` into ``target_id`` would move, fill and leave as it is."""
    if source_id == target_id:
        raise InvalidInput.one("into", "an account cannot be merged into itself")
    source, target = get_account(session, source_id), get_account(session, target_id)
    src, tgt = account_out(session, source), account_out(session, target)
    fill, conflicts = _fill_and_conflicts(src.model_dump(), tgt.model_dump(), _FILLABLE)
    custom_fill, custom_conflicts = _fill_and_conflicts(src.custom, tgt.custom, sorted(src.custom))
    return {
        "source": {"id": source.id, "name": source.name},
        "target": {"id": target.id, "name": target.name},
        "contacts": _ids(session, Contact, source_id),
        "contracts": _ids(session, Contract, source_id),
        "movements": len(_ids(session, ContractMovement, source_id)),
        "deals": _ids(session, Deal, source_id),
        "external_ids": src.external_ids,
        "domains": sorted(set(src.domains) - set(tgt.domains)),
        "tags": sorted(set(src.tags) - set(tgt.tags)),
        "fill": fill,
        "custom_fill": custom_fill,
        "conflicts": conflicts | {f"custom.{k}": v for k, v in custom_conflicts.items()},
    }


def merge_accounts(
    session: Session, actor: Actor, source_id: int, target_id: int, *, preview: bool
) -> dict[str, Any]:
    """Merge ``source_id`` into ``target_id``; with ``preview`` nothing is written.

    Everything linked to the source moves; the target keeps its own values and gains the
    ones it lacked; the source's full record is kept in ``account_merges`` and the audit log.
    """
    plan = plan_account_merge(session, source_id, target_id)
    if preview:
        return plan
    source, target = get_account(session, source_id), get_account(session, target_id)
    snapshot = account_out(session, source).model_dump(mode="json")
    before_target = account_out(session, target).model_dump(mode="json")
    for model in (Contact, Contract, ContractMovement, Deal):
        session.execute(
            update(model).where(model.account_id == source_id).values(account_id=target_id)
        )
    session.execute(
        update(ExternalId)
        .where(ExternalId.entity == "account", ExternalId.entity_id == source_id)
        .values(entity_id=target_id)
    )
    target.domains.extend(AccountDomain(domain=d) for d in plan["domains"])
    target.tags.extend(AccountTag(tag=t) for t in plan["tags"])
    for key, value in plan["fill"].items():
        setattr(target, key, value)
    if plan["custom_fill"]:
        target.custom = {**target.custom, **plan["custom_fill"]}
    session.delete(source)
    session.flush()
    refresh_account_mrr(session, target_id)
    target.updated_at = utcnow()  # a merge is a change to the target: bump its version
    session.add(
        AccountMerge(
            source_account_id=source_id,
            target_account_id=target_id,
            actor=actor.label,
            source_snapshot=snapshot,
            moved={
                k: plan[k]
                for k in ("contacts", "contracts", "movements", "deals", "domains", "tags")
            },
        )
    )
    session.flush()
    after_target = account_out(session, target).model_dump(mode="json")
    record(session, actor, "merge", "account", source_id, snapshot, {"merged_into": target_id})
    record(
        session,
        actor,
        "merge",
        "account",
        target_id,
        before_target,
        after_target | {"merged_from": source_id},
    )
    return plan


def plan_contact_merge(session: Session, source_id: int, target_id: int) -> dict[str, Any]:
    if source_id == target_id:
        raise InvalidInput.one("into", "a contact cannot be merged into itself")
    source, target = get_contact(session, source_id), get_contact(session, target_id)
    src, tgt = contact_out(session, source), contact_out(session, target)
    fill, conflicts = _fill_and_conflicts(src.model_dump(), tgt.model_dump(), _CONTACT_FILLABLE)
    custom_fill, custom_conflicts = _fill_and_conflicts(src.custom, tgt.custom, sorted(src.custom))
    if source.is_key_person and not target.is_key_person:
        fill["is_key_person"] = True
    return {
        "source": {"id": source.id, "name": source.name, "account_id": source.account_id},
        "target": {"id": target.id, "name": target.name, "account_id": target.account_id},
        "external_ids": src.external_ids,
        "deals": list(session.scalars(select(Deal.id).where(Deal.contact_id == source_id))),
        "fill": fill,
        "custom_fill": custom_fill,
        "conflicts": conflicts | {f"custom.{k}": v for k, v in custom_conflicts.items()},
    }


def merge_contacts(
    session: Session, actor: Actor, source_id: int, target_id: int, *, preview: bool
) -> dict[str, Any]:
    """Merge one contact into another (the target's account stays)."""
    plan = plan_contact_merge(session, source_id, target_id)
    if preview:
        return plan
    source, target = get_contact(session, source_id), get_contact(session, target_id)
    snapshot = contact_out(session, source).model_dump(mode="json")
    before_target = contact_out(session, target).model_dump(mode="json")
    session.execute(
        update(ExternalId)
        .where(ExternalId.entity == "contact", ExternalId.entity_id == source_id)
        .values(entity_id=target_id)
    )
    session.execute(update(Deal).where(Deal.contact_id == source_id).values(contact_id=target_id))
    for key, value in plan["fill"].items():
        setattr(target, key, value)
    if "email" in plan["fill"]:
        target.email_key = source.email_key
    if plan["custom_fill"]:
        target.custom = {**target.custom, **plan["custom_fill"]}
    target.updated_at = utcnow()
    session.delete(source)
    session.flush()
    record(session, actor, "merge", "contact", source_id, snapshot, {"merged_into": target_id})
    after = contact_out(session, target).model_dump(mode="json") | {"merged_from": source_id}
    record(session, actor, "merge", "contact", target_id, before_target, after)
    return plan
