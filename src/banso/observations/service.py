"""The observation log (観察ログ): sessions watching a customer use the product, the moments of
irritation (イラッ), confusion (?) and ideas (💡) seen in them, a KPT retrospective after each,
and the friction points across customers by step, for the product team.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.accounts.service import find
from banso.audit.service import Actor, record, snapshot
from banso.auth.models import User
from banso.documents import service as documents
from banso.errors import FieldError, InvalidInput, NotFound
from banso.listing import Page, SortKey, paginate
from banso.observations.models import MOMENT_KINDS, ObservationMoment, ObservationSession
from banso.observations.schemas import KptEdit, MomentIn, SessionEdit, SessionIn
from banso.search.documents import Doc, put

ENTITY = "observation_session"
KPT_FIELDS = ("keep", "problem", "try_next")
DETAIL_FIELDS = ("title", "held_at", "customer_role", "contact_id", "observer_id", "recording_url")
DETAIL_TEXT_FIELDS = ("title", "customer_role")  # merged line by line on a concurrent edit
SESSION_SORTS = {"held_at": SortKey(ObservationSession.held_at)}
LATEST_PER_STEP = 3


# ---------------------------------------------------------------- reading


def get_session(session: Session, session_id: int) -> ObservationSession:
    found = find(session, ObservationSession, session_id)
    if found is None:
        raise NotFound("observation session", session_id)
    return found


def get_moment(
    session: Session, observation: ObservationSession, moment_id: int
) -> ObservationMoment:
    moment = find(session, ObservationMoment, moment_id)
    if moment is None or moment.session_id != observation.id:
        raise NotFound(f"moment of observation session {observation.id}", moment_id)
    return moment


def moments_of(session: Session, session_id: int) -> list[ObservationMoment]:
    """A session's moments in recording order; those without a time last, as they were added."""
    return list(
        session.scalars(
            select(ObservationMoment)
            .where(ObservationMoment.session_id == session_id)
            .order_by(
                ObservationMoment.at_seconds.is_(None),
                ObservationMoment.at_seconds,
                ObservationMoment.created_at,
                ObservationMoment.id,
            )
        )
    )


@dataclass(frozen=True)
class SessionFilter:
    account_id: int | None = None
    observer_id: int | None = None


def list_sessions(
    session: Session, f: SessionFilter, *, cursor: str | None = None, limit: int = 30
) -> Page[ObservationSession]:
    """Sessions newest first, optionally of one account or one observer."""
    stmt = select(ObservationSession)
    if f.account_id is not None:
        stmt = stmt.where(ObservationSession.account_id == f.account_id)
    if f.observer_id is not None:
        stmt = stmt.where(ObservationSession.observer_id == f.observer_id)
    return paginate(
        session, stmt, id_column=ObservationSession.id, sortable=SESSION_SORTS, sort="-held_at",
        cursor=cursor, limit=limit,
    )  # fmt: skip


def moment_counts(session: Session, session_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per session, how many moments of each kind."""
    counts: dict[int, dict[str, int]] = {i: dict.fromkeys(MOMENT_KINDS, 0) for i in session_ids}
    if not session_ids:
        return counts
    rows = session.execute(
        select(ObservationMoment.session_id, ObservationMoment.kind, func.count())
        .where(ObservationMoment.session_id.in_(session_ids))
        .group_by(ObservationMoment.session_id, ObservationMoment.kind)
    )
    for session_id, kind, n in rows:
        counts[session_id][kind] = int(n)
    return counts


def moment_link(moment: ObservationMoment, session_recording: str | None) -> str | None:
    """Where to watch the moment: its own recording, or the session's at its time (#t=95)."""
    if moment.recording_url:
        return moment.recording_url
    if not session_recording:
        return None
    if moment.at_seconds is None:
        return session_recording
    parts = urlsplit(session_recording)
    return urlunsplit(parts._replace(fragment=f"t={moment.at_seconds}"))


# ---------------------------------------------------------------- checks


def _check_people(
    session: Session, account_id: int, contact_id: int | None, observer_id: int | None,
    *, kept_observer_id: int | None = None,
) -> None:  # fmt: skip
    """The contact must be one of the account's, the observer an active user (or, on an edit,
    the one already recorded: a colleague who has left stays the observer of their sessions)."""
    errors: list[FieldError] = []
    if contact_id is not None:
        contact = find(session, Contact, contact_id)
        if contact is None:
            errors.append(FieldError("contact_id", f"contact {contact_id} does not exist"))
        elif contact.account_id != account_id:
            errors.append(
                FieldError(
                    "contact_id",
                    f"contact {contact_id} belongs to account {contact.account_id}, "
                    f"not to account {account_id} of this session",
                )
            )
    if observer_id is not None and observer_id != kept_observer_id:
        observer = find(session, User, observer_id)
        if observer is None or not observer.is_active:
            errors.append(FieldError("observer_id", f"user {observer_id} does not exist"))
    if errors:
        raise InvalidInput(errors)


# ---------------------------------------------------------------- writing


def create_session(session: Session, actor: Actor, data: SessionIn) -> ObservationSession:
    """A new session on an account (which must exist), with its first revision and audit entry."""
    if find(session, Account, data.account_id) is None:
        raise InvalidInput.one("account_id", f"account {data.account_id} does not exist")
    _check_people(session, data.account_id, data.contact_id, data.observer_id)
    observation = ObservationSession(**data.model_dump())
    session.add(observation)
    session.flush()
    documents.add_revision(
        session, actor, ENTITY, observation.id, observation.version,
        {k: getattr(observation, k) for k in (*DETAIL_FIELDS, *KPT_FIELDS)},
    )  # fmt: skip
    record(session, actor, "create", ENTITY, observation.id, None, snapshot(observation))
    _index(session, observation)
    return observation


def update_session(
    session: Session, actor: Actor, observation: ObservationSession, data: SessionEdit
) -> bool:
    """Save a session's details (its account stays), checked as on creation.

    Raises InvalidInput for a contact of another account or an unknown or inactive observer,
    and EditConflict (nothing written; the title and role merged) when someone saved first.
    Returns False when nothing changed.
    """
    _check_people(session, observation.account_id, data.contact_id, data.observer_id,
                  kept_observer_id=observation.observer_id)  # fmt: skip
    changes = {k: getattr(data, k) for k in DETAIL_FIELDS}
    # The same moment given in another timezone is no change; a new one is kept in UTC.
    held_at = observation.held_at
    changes["held_at"] = held_at if data.held_at == held_at else data.held_at.astimezone(UTC)
    changed = documents.save_fields(
        session, actor, ENTITY, observation, data.version, changes,
        text_fields=DETAIL_TEXT_FIELDS,
    )  # fmt: skip
    if changed:
        _index(session, observation)
    return changed


def save_kpt(
    session: Session, actor: Actor, observation: ObservationSession, data: KptEdit
) -> bool:
    """Save the KPT retrospective; raises EditConflict (with merges) when someone saved first."""
    changed = documents.save_fields(
        session, actor, ENTITY, observation, data.version,
        {k: getattr(data, k) for k in KPT_FIELDS}, text_fields=KPT_FIELDS,
    )  # fmt: skip
    if changed:
        _index(session, observation)
    return changed


def add_moment(
    session: Session, actor: Actor, observation: ObservationSession, data: MomentIn
) -> ObservationMoment:
    moment = ObservationMoment(session_id=observation.id, created_by_id=actor.user_id,
                               **data.model_dump())  # fmt: skip
    session.add(moment)
    session.flush()
    record(session, actor, "create", "observation_moment", moment.id, None, snapshot(moment))
    _index(session, observation)
    return moment


def delete_moment(
    session: Session, actor: Actor, observation: ObservationSession, moment_id: int
) -> None:
    moment = get_moment(session, observation, moment_id)
    before = snapshot(moment)
    session.delete(moment)
    session.flush()
    record(session, actor, "delete", "observation_moment", moment_id, before, None)
    _index(session, observation)


# ---------------------------------------------------------------- friction by step


@dataclass(frozen=True)
class FrictionFilter:
    since: datetime | None = None  # held_at >= since
    until: datetime | None = None  # held_at < until
    kind: str | None = None

    def check(self) -> None:
        if self.kind is not None and self.kind not in MOMENT_KINDS:
            raise InvalidInput.one(
                "kind", f"unknown kind {self.kind!r}; use one of {', '.join(MOMENT_KINDS)}"
            )
        if self.since and self.until and self.until <= self.since:
            raise InvalidInput.one("to", "the end of the period is before its start")


@dataclass(frozen=True)
class MomentRow:
    """A moment with what a reader needs around it: its session, account and link."""

    moment: ObservationMoment
    observation: ObservationSession
    account_name: str
    link: str | None


@dataclass
class Friction:
    """The moments seen at one step, across customers."""

    step: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MOMENT_KINDS, 0))
    severity_sum: int = 0
    severity_max: int = 0
    accounts: int = 0
    latest: list[MomentRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _moments(f: FrictionFilter, *columns: Any) -> Select[Any]:
    f.check()
    stmt = (
        select(*(columns or (ObservationMoment, ObservationSession, Account.name)))
        .select_from(ObservationMoment)
        .join(ObservationSession, ObservationSession.id == ObservationMoment.session_id)
        .join(Account, Account.id == ObservationSession.account_id)
    )
    if f.kind:
        stmt = stmt.where(ObservationMoment.kind == f.kind)
    if f.since:
        stmt = stmt.where(ObservationSession.held_at >= f.since)
    if f.until:
        stmt = stmt.where(ObservationSession.held_at < f.until)
    return stmt


def friction(session: Session, f: FrictionFilter, *, limit: int = 100) -> list[Friction]:
    """Friction points by step, heaviest first (severity sum, then customers, then count)."""
    moment = ObservationMoment
    rows = session.execute(
        _moments(
            f, moment.step, moment.kind, func.count(), func.sum(moment.severity),
            func.max(moment.severity),
        ).group_by(moment.step, moment.kind)
    ).all()  # fmt: skip
    by_step: dict[str, Friction] = {}
    for step, kind, n, total, top in rows:
        item = by_step.setdefault(step, Friction(step=step))
        item.counts[kind] = int(n)
        item.severity_sum += int(total or 0)
        item.severity_max = max(item.severity_max, int(top or 0))
    accounts = session.execute(
        _moments(f, moment.step, func.count(func.distinct(ObservationSession.account_id))).group_by(
            moment.step
        )
    )
    for step, n in accounts:
        by_step[step].accounts = int(n)
    ranked = sorted(
        by_step.values(), key=lambda x: (-x.severity_sum, -x.accounts, -x.total, x.step)
    )[:limit]
    _latest(session, f, ranked)
    return ranked


def _latest(session: Session, f: FrictionFilter, items: list[Friction]) -> None:
    if not items:
        return
    wanted = {i.step: i for i in items}
    stmt = (
        _moments(f)
        .where(ObservationMoment.step.in_(wanted))
        .order_by(ObservationSession.held_at.desc(), ObservationMoment.id.desc())
    )
    for moment, observation, account_name in session.execute(stmt):
        item = wanted[moment.step]
        if len(item.latest) < LATEST_PER_STEP:
            link = moment_link(moment, observation.recording_url)
            item.latest.append(MomentRow(moment, observation, account_name, link))
        if all(len(i.latest) >= LATEST_PER_STEP for i in items):
            break


def friction_moments(session: Session, f: FrictionFilter) -> Iterator[MomentRow]:
    """Every moment the friction view counts, by step then newest first (for the export)."""
    stmt = _moments(f).order_by(
        ObservationMoment.step, ObservationSession.held_at.desc(), ObservationMoment.id.desc()
    )
    for moment, observation, account_name in session.execute(stmt):
        yield MomentRow(
            moment, observation, account_name, moment_link(moment, observation.recording_url)
        )


# ---------------------------------------------------------------- search


def _body(observation: ObservationSession, notes: list[str]) -> str:
    parts = [observation.customer_role, observation.keep, observation.problem, observation.try_next]
    return "\n\n".join(p for p in [*parts, *notes] if p)


def _doc(observation: ObservationSession, notes: list[str]) -> Doc:
    return Doc(
        kind="observation",
        ref_id=observation.id,
        account_id=observation.account_id,
        author_id=observation.observer_id,
        occurred_at=observation.held_at,
        title=observation.title,
        body=_body(observation, notes),
        url=f"/observations/{observation.id}",
    )


def _notes(session: Session, session_ids: list[int]) -> dict[int, list[str]]:
    """Each session's moments as search text, in ``moments_of`` order (one query)."""
    found: dict[int, list[str]] = {session_id: [] for session_id in session_ids}
    if not session_ids:
        return found
    m = ObservationMoment
    rows = session.execute(
        select(m.session_id, m.step, m.screen, m.note)
        .where(m.session_id.in_(session_ids))
        .order_by(m.session_id, m.at_seconds.is_(None), m.at_seconds, m.created_at, m.id)
    )
    for session_id, step, screen, note in rows:
        found[session_id].append(" ".join(p for p in (step, screen or "", note) if p))
    return found


def _index(session: Session, observation: ObservationSession) -> None:
    put(session, _doc(observation, _notes(session, [observation.id])[observation.id]))


def search_documents(session: Session) -> Iterator[Doc]:
    """Every observation session as a search document (for ``banso search reindex``)."""
    observations = session.scalars(select(ObservationSession).order_by(ObservationSession.id))
    for batch in observations.partitions(500):
        notes = _notes(session, [o.id for o in batch])
        for observation in batch:
            yield _doc(observation, notes[observation.id])
