"""Merging duplicate accounts and contacts: preview first, move everything, keep the trail.

Every row in any table that points at the source (found through the foreign keys, so a table
added later moves too) is repointed at the target. Where such a table keeps one row per
record and value (domains, tags), a value the target already has is not duplicated. The
target keeps its own field values and gains the ones it lacked; every source value that was
not copied stays readable in the merge record and the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, and_, exists, func, select, update
from sqlalchemy.orm import Session

from banso.accounts.models import AccountMerge, ExternalId
from banso.accounts.service import account_out, contact_out, get_account, get_contact
from banso.audit.service import Actor, record
from banso.contracts.service import refresh_account_mrr
from banso.db import Base, utcnow
from banso.errors import Conflict, InvalidInput

_FILLABLE = (
    "name",
    "name_kana",
    "industry",
    "company_size",
    "segment",
    "source",
    "owner_id",
    "lifecycle_stage",
)
_CONTACT_FILLABLE = ("name", "name_kana", "email", "phone", "title", "role")
# Rows listed by id in a preview (the rest are counted): table → name in the plan.
_LISTED = {
    "contacts": "contacts",
    "contracts": "contracts",
    "contract_movements": "movements",
    "deals": "deals",
}
# Other links with a name a reader understands (the rest are shown as table.column).
_NAMED = {"account_merges": "earlier_merges"}


@dataclass(frozen=True)
class _Link:
    """A foreign-key column pointing at the merged table, and the columns that make a row
    unique together with it (empty when rows may repeat)."""

    table: Table
    column: Column[Any]
    partners: tuple[Column[Any], ...]

    @property
    def name(self) -> str:
        name = self.table.name
        return _LISTED.get(name) or _NAMED.get(name) or f"{name}.{self.column.name}"


def _unique_sets(table: Table) -> list[set[str]]:
    sets = [{c.name for c in table.primary_key.columns}]
    for constraint in table.constraints:
        if constraint.__class__.__name__ == "UniqueConstraint":
            sets.append({c.name for c in constraint.columns})  # type: ignore[attr-defined]
    sets.extend({c.name for c in index.columns} for index in table.indexes if index.unique)
    return sets


def _links(referred: str) -> list[_Link]:
    """Every foreign-key column in the schema that points at ``referred``."""
    import banso.models  # noqa: F401  (every capability's tables must be known)

    links = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != referred:
                continue
            column = fk.parent
            keys = [s for s in _unique_sets(table) if column.name in s]
            partners = min(keys, key=len) - {column.name} if keys else set()
            links.append(_Link(table, column, tuple(table.c[p] for p in sorted(partners))))
    return sorted(links, key=lambda link: link.name)


def _movable(link: _Link, source_id: int, target_id: int) -> Any:
    """Rows of ``link`` on the source that can move without repeating one of the target's."""
    condition = link.column == source_id
    if not link.partners:
        return condition
    other = link.table.alias("already")
    same = [other.c[p.name] == p for p in link.partners]
    return and_(condition, ~exists().where(other.c[link.column.name] == target_id, *same))


def _moves(session: Session, links: list[_Link], source_id: int, target_id: int) -> dict[str, Any]:
    """Per link: ids (for the listed tables) or the count of rows that would move."""
    moves: dict[str, Any] = {}
    for link in links:
        where = _movable(link, source_id, target_id)
        if link.table.name in _LISTED and "id" in link.table.c:
            ids = session.scalars(select(link.table.c.id).where(where).order_by(link.table.c.id))
            moves[link.name] = list(ids)
        else:
            moves[link.name] = session.scalar(select(func.count()).where(where)) or 0
    return moves


def _move(session: Session, links: list[_Link], source_id: int, target_id: int) -> None:
    now = utcnow()
    for link in links:
        values: dict[str, Any] = {link.column.name: target_id}
        if "version" in link.table.c and "updated_at" in link.table.c:
            # A moved record changed: anyone holding its old version must reload it.
            values |= {"version": link.table.c.version + 1, "updated_at": now}
        session.execute(
            update(link.table).where(_movable(link, source_id, target_id)).values(values)
        )


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _fill_and_conflicts(
    source: dict[str, Any], target: dict[str, Any], keys: list[str] | tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Values the target lacks (filled from the source) and values both have but differ."""
    fill, conflicts = {}, {}
    for key in keys:
        mine, theirs = target.get(key), source.get(key)
        if _empty(theirs):
            continue
        if _empty(mine):
            fill[key] = theirs
        elif mine != theirs:
            conflicts[key] = {"kept": mine, "source": theirs}
    return fill, conflicts


def _external_ids(session: Session, entity: str, entity_id: int) -> list[dict[str, str]]:
    rows = session.execute(
        select(ExternalId.system, ExternalId.value)
        .where(ExternalId.entity == entity, ExternalId.entity_id == entity_id)
        .order_by(ExternalId.system, ExternalId.value)
    )
    return [{"system": system, "value": value} for system, value in rows]


def _check_versions(kind: str, record_: Any, expected: int | None, role: str) -> None:
    if expected is not None and record_.version != expected:
        raise Conflict(
            f"{kind} {record_.id} ({role}) changed since the preview (you saw version "
            f"{expected}, it is now {record_.version}); preview the merge again"
        )


def _describe(record_: Any) -> dict[str, Any]:
    return {"id": record_.id, "name": record_.name, "version": record_.version}


def _fields(
    src: dict[str, Any], tgt: dict[str, Any], keys: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]]:
    """Fill, custom fill and conflicts (custom ones as ``custom.<key>``)."""
    fill, conflicts = _fill_and_conflicts(src, tgt, keys)
    custom_fill, custom_conflicts = _fill_and_conflicts(
        src["custom"], tgt["custom"], sorted(src["custom"])
    )
    return fill, custom_fill, conflicts | {f"custom.{k}": v for k, v in custom_conflicts.items()}


# ---------------------------------------------------------------- accounts


def plan_account_merge(session: Session, source_id: int, target_id: int) -> dict[str, Any]:
    """What merging ``source_id`` into ``target_id`` would move, fill and leave as it is."""
    if source_id == target_id:
        raise InvalidInput.one("into", "an account cannot be merged into itself; pick another")
    session.flush()  # the preview describes the records as they are now, versions included
    source, target = get_account(session, source_id), get_account(session, target_id)
    src = account_out(session, source).model_dump(mode="json")
    tgt = account_out(session, target).model_dump(mode="json")
    fill, custom_fill, conflicts = _fields(src, tgt, _FILLABLE)
    moves = _moves(session, _links("accounts"), source_id, target_id)
    # Domains and tags are listed by value; their tables are among the links.
    moves.pop("account_domains.account_id", None)
    moves.pop("account_tags.account_id", None)
    external_ids = _external_ids(session, "account", source_id)
    domains = sorted(set(src["domains"]) - set(tgt["domains"]))
    tags = sorted(set(src["tags"]) - set(tgt["tags"]))
    counts = {k: len(v) if isinstance(v, list) else v for k, v in moves.items()}
    counts |= {"external_ids": len(external_ids), "domains": len(domains), "tags": len(tags)}
    return {
        "source": _describe(source),
        "target": _describe(target),
        **moves,
        "external_ids": external_ids,
        "domains": domains,
        "tags": tags,
        "fill": fill,
        "custom_fill": custom_fill,
        "conflicts": conflicts,
        "counts": counts,
    }


def merge_accounts(
    session: Session,
    actor: Actor,
    source_id: int,
    target_id: int,
    *,
    preview: bool,
    source_version: int | None = None,
    target_version: int | None = None,
) -> dict[str, Any]:
    """Merge ``source_id`` into ``target_id``; with ``preview`` nothing is written.

    Pass the versions the preview showed to refuse a merge of records changed since then.
    Everything linked to the source moves; the target keeps its values and gains the ones it
    lacked; the source's full record is kept in ``account_merges`` and in the audit log.
    """
    plan = plan_account_merge(session, source_id, target_id)
    source, target = get_account(session, source_id), get_account(session, target_id)
    _check_versions("account", source, source_version, "source")
    _check_versions("account", target, target_version, "target")
    if preview:
        return plan
    snapshot = account_out(session, source).model_dump(mode="json")
    before_target = account_out(session, target).model_dump(mode="json")
    session.flush()
    _move(session, _links("accounts"), source_id, target_id)
    session.execute(
        update(ExternalId)
        .where(ExternalId.entity == "account", ExternalId.entity_id == source_id)
        .values(entity_id=target_id)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()  # the rows above moved underneath the loaded objects
    source, target = get_account(session, source_id), get_account(session, target_id)
    refresh_account_mrr(session, target_id)  # the target now holds the source's contracts
    for key, value in plan["fill"].items():
        setattr(target, key, value)
    if plan["custom_fill"]:
        target.custom = {**target.custom, **plan["custom_fill"]}
    target.updated_at = utcnow()  # a merge changes the target: one new version
    session.delete(source)
    session.flush()
    moved = {k: v for k, v in plan.items() if k not in ("source", "target")}
    session.add(
        AccountMerge(
            source_account_id=source_id,
            target_account_id=target_id,
            actor=actor.label,
            source_snapshot=snapshot,
            moved=moved,
        )
    )
    session.flush()
    after_target = account_out(session, target).model_dump(mode="json")
    record(
        session,
        actor,
        "merge",
        "account",
        source_id,
        snapshot,
        {"merged_into": target_id, "moved": moved},
    )
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


# ---------------------------------------------------------------- contacts


def plan_contact_merge(session: Session, source_id: int, target_id: int) -> dict[str, Any]:
    """What merging contact ``source_id`` into ``target_id`` would move and fill."""
    if source_id == target_id:
        raise InvalidInput.one("into", "a contact cannot be merged into itself; pick another")
    session.flush()
    source, target = get_contact(session, source_id), get_contact(session, target_id)
    src = contact_out(session, source).model_dump(mode="json")
    tgt = contact_out(session, target).model_dump(mode="json")
    fill, custom_fill, conflicts = _fields(src, tgt, _CONTACT_FILLABLE)
    if source.is_key_person and not target.is_key_person:
        fill["is_key_person"] = True
    if source.account_id != target.account_id:
        conflicts["account_id"] = {"kept": target.account_id, "source": source.account_id}
    moves = _moves(session, _links("contacts"), source_id, target_id)
    external_ids = _external_ids(session, "contact", source_id)
    counts = {k: len(v) if isinstance(v, list) else v for k, v in moves.items()}
    return {
        "source": _describe(source) | {"account_id": source.account_id},
        "target": _describe(target) | {"account_id": target.account_id},
        **moves,
        "external_ids": external_ids,
        "fill": fill,
        "custom_fill": custom_fill,
        "conflicts": conflicts,
        "counts": counts | {"external_ids": len(external_ids)},
    }


def merge_contacts(
    session: Session,
    actor: Actor,
    source_id: int,
    target_id: int,
    *,
    preview: bool,
    source_version: int | None = None,
    target_version: int | None = None,
) -> dict[str, Any]:
    """Merge one contact into another: the target (and its account) stays, gains the source's
    external ids, deals and the values it lacked; the source is kept in the audit log."""
    plan = plan_contact_merge(session, source_id, target_id)
    source, target = get_contact(session, source_id), get_contact(session, target_id)
    _check_versions("contact", source, source_version, "source")
    _check_versions("contact", target, target_version, "target")
    if preview:
        return plan
    snapshot = contact_out(session, source).model_dump(mode="json")
    before_target = contact_out(session, target).model_dump(mode="json")
    session.flush()
    _move(session, _links("contacts"), source_id, target_id)
    session.execute(
        update(ExternalId)
        .where(ExternalId.entity == "contact", ExternalId.entity_id == source_id)
        .values(entity_id=target_id)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    source, target = get_contact(session, source_id), get_contact(session, target_id)
    for key, value in plan["fill"].items():
        setattr(target, key, value)
    if "email" in plan["fill"]:
        target.email_key = source.email_key
    if plan["custom_fill"]:
        target.custom = {**target.custom, **plan["custom_fill"]}
    target.updated_at = utcnow()
    session.delete(source)
    session.flush()
    moved = {k: v for k, v in plan.items() if k not in ("source", "target")}
    record(
        session,
        actor,
        "merge",
        "contact",
        source_id,
        snapshot,
        {"merged_into": target_id, "moved": moved},
    )
    after = contact_out(session, target).model_dump(mode="json") | {"merged_from": source_id}
    record(session, actor, "merge", "contact", target_id, before_target, after)
    return plan
