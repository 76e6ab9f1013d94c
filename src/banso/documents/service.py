"""Revisions of written documents, three-way merging of concurrent edits, and mentions.

A document (a timeline entry, a meeting, a knowledge page, a profile) is saved with
:func:`save_fields`: the caller hands the version their form was read at and the fields they
submit. When nobody saved in between, the fields are applied, the version goes up and a
revision records who saved what. When somebody did, nothing is written and
:class:`EditConflict` carries, per field, the text the writer started from (the revision at
their version), the text now stored, their own text and a merge of the two: a clean one when
they changed different lines, otherwise one with both sides marked, for the writer to settle
and save again against the new version.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from banso.audit.service import Actor, record
from banso.auth.models import User
from banso.documents.models import Revision
from banso.errors import Conflict


@dataclass
class FieldMerge:
    name: str
    base: str
    theirs: str
    mine: str
    merged: str
    clean: bool


@dataclass
class EditConflict(Conflict):
    """Someone saved the document after the writer opened it; nothing was written."""

    entity: str
    entity_id: int
    expected_version: int
    current_version: int
    fields: list[FieldMerge] = field(default_factory=list)
    changed_by: str = ""

    def __post_init__(self) -> None:
        who = f" by {self.changed_by}" if self.changed_by else ""
        Conflict.__init__(
            self,
            f"this {self.entity.replace('_', ' ')} was changed{who} after you opened it "
            f"(version {self.expected_version} → {self.current_version}); "
            "nothing was saved: merge your change with theirs and save again",
            current={"version": self.current_version},
        )

    @property
    def clean(self) -> bool:
        return all(f.clean for f in self.fields)

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["fields"] = [
            {"name": f.name, "theirs": f.theirs, "mine": f.mine, "merged": f.merged,
             "clean": f.clean}
            for f in self.fields
        ]  # fmt: skip
        return body

    def __hash__(self) -> int:  # exceptions must stay hashable
        return id(self)


def merge3(base: str, theirs: str, mine: str) -> tuple[str, bool]:
    """Line-based three-way merge: (merged text, True when no change clashed).

    Where both sides changed the same lines differently the result holds both, marked
    ``<<<<<<< 保存済み / =======  / >>>>>>> あなたの変更`` so the writer sees and settles it.
    Line endings do not count: a browser posts a plain form's textarea with CRLF but an HTMX
    form's with LF, so the same text can arrive either way.
    """
    base, theirs, mine = (_lf(text) for text in (base, theirs, mine))
    if theirs == mine or mine == base:
        return theirs, True
    if theirs == base:
        return mine, True
    base_lines = base.splitlines(keepends=True)
    theirs_lines = theirs.splitlines(keepends=True)
    mine_lines = mine.splitlines(keepends=True)
    ours_changes = _changes(base_lines, theirs_lines)
    my_changes = _changes(base_lines, mine_lines)
    out: list[str] = []
    clean = True
    position = 0
    ti = mi = 0
    while ti < len(ours_changes) or mi < len(my_changes):
        t = ours_changes[ti] if ti < len(ours_changes) else None
        m = my_changes[mi] if mi < len(my_changes) else None
        if m is None or (t is not None and t[1] <= m[0] and not _touch(t, m)):
            assert t is not None
            out.extend(base_lines[position : t[0]])
            out.extend(t[2])
            position = t[1]
            ti += 1
            continue
        if t is None or (m[1] <= t[0] and not _touch(t, m)):
            out.extend(base_lines[position : m[0]])
            out.extend(m[2])
            position = m[1]
            mi += 1
            continue
        # Overlapping hunks: gather every hunk on either side that overlaps the region.
        start, end = min(t[0], m[0]), max(t[1], m[1])
        t_group, m_group = [t], [m]
        ti += 1
        mi += 1
        grew = True
        while grew:
            grew = False
            while ti < len(ours_changes) and ours_changes[ti][0] < end:
                t_group.append(ours_changes[ti])
                end = max(end, ours_changes[ti][1])
                ti += 1
                grew = True
            while mi < len(my_changes) and my_changes[mi][0] < end:
                m_group.append(my_changes[mi])
                end = max(end, my_changes[mi][1])
                mi += 1
                grew = True
        theirs_part = _apply(base_lines, start, end, t_group)
        mine_part = _apply(base_lines, start, end, m_group)
        out.extend(base_lines[position:start])
        if theirs_part == mine_part:
            out.extend(theirs_part)
        else:
            clean = False
            out.append("<<<<<<< 保存済み / saved\n")
            out.extend(_ended(theirs_part))
            out.append("=======\n")
            out.extend(_ended(mine_part))
            out.append(">>>>>>> あなたの変更 / yours\n")
        position = end
    out.extend(base_lines[position:])
    return "".join(out), clean


Hunk = tuple[int, int, list[str]]


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _changes(base: list[str], other: list[str]) -> list[Hunk]:
    matcher = difflib.SequenceMatcher(a=base, b=other, autojunk=False)
    return [
        (i1, i2, other[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def _touch(a: Hunk, b: Hunk) -> bool:
    """Whether two hunks change overlapping lines, or insert at the same place."""
    if a[0] == a[1] and b[0] == b[1]:
        return a[0] == b[0]
    return (a[0] < b[1] and b[0] < a[1]) or a[0] == b[0]


def _apply(base: list[str], start: int, end: int, hunks: list[Hunk]) -> list[str]:
    out: list[str] = []
    position = start
    for h_start, h_end, lines in hunks:
        out.extend(base[position:h_start])
        out.extend(lines)
        position = h_end
    out.extend(base[position:end])
    return out


def _ended(lines: list[str]) -> list[str]:
    if lines and not lines[-1].endswith("\n"):
        return [*lines[:-1], lines[-1] + "\n"]
    return lines


# ---------------------------------------------------------------- saving with history


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def save_fields(
    session: Session,
    actor: Actor,
    entity: str,
    document: Any,
    expected_version: int,
    changes: dict[str, Any],
    *,
    text_fields: tuple[str, ...] = (),
) -> bool:
    """Apply ``changes`` to ``document`` (a Versioned row) if it is still at ``expected_version``.

    Records a revision (the changed fields after the save) and an audit entry; returns False
    when nothing changed. Raises :class:`EditConflict` (nothing written) when the document
    moved on; for ``text_fields`` the conflict carries a three-way merge of each.
    """
    current_version = int(document.version)
    entity_id = int(_identity(document))
    if expected_version != current_version:
        raise _conflict(
            session, entity, entity_id, document, expected_version, changes, text_fields
        )
    before = {k: _jsonable(getattr(document, k)) for k in changes}
    after = {k: _jsonable(v) for k, v in changes.items()}
    changed = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return False
    _ensure_base_revision(
        session, actor, entity, entity_id, document, text_fields or tuple(changes)
    )
    for key, value in changes.items():
        setattr(document, key, value)
    session.flush()  # the versioned UPDATE: a racing writer fails here with StaleDataError
    add_revision(session, actor, entity, entity_id, int(document.version), changed)
    record(
        session, actor, "update", entity, entity_id,
        {k: before[k] for k in changed}, changed,
    )  # fmt: skip
    return True


def add_revision(
    session: Session, actor: Actor, entity: str, entity_id: int, version: int,
    fields: dict[str, Any],
) -> None:  # fmt: skip
    """Record the document's fields as they are after a save (its creation included)."""
    session.add(
        Revision(
            entity=entity,
            entity_id=entity_id,
            version=version,
            author_id=actor.user_id,
            author_label=actor.label,
            fields={k: _jsonable(v) for k, v in fields.items()},
        )
    )


def _ensure_base_revision(
    session: Session, actor: Actor, entity: str, entity_id: int, document: Any,
    names: tuple[str, ...],
) -> None:  # fmt: skip
    """Documents created before revisions were kept (or in bulk) get one for their state now."""
    exists = session.scalar(
        select(Revision.id).where(Revision.entity == entity, Revision.entity_id == entity_id)
        .limit(1)
    )  # fmt: skip
    if exists is None:
        session.add(
            Revision(
                entity=entity, entity_id=entity_id, version=int(document.version),
                author_id=None, author_label="",
                fields={k: _jsonable(getattr(document, k)) for k in names},
            )
        )  # fmt: skip


def state_at(session: Session, entity: str, entity_id: int, version: int) -> dict[str, Any]:
    """The document's fields as they were at ``version`` (from the revisions up to it)."""
    state: dict[str, Any] = {}
    rows = session.scalars(
        select(Revision).where(
            Revision.entity == entity, Revision.entity_id == entity_id,
            Revision.version <= version,
        ).order_by(Revision.version)
    )  # fmt: skip
    for row in rows:
        state.update(row.fields)
    return state


def history(session: Session, entity: str, entity_id: int) -> list[Revision]:
    """Every saved version, newest first."""
    return list(
        session.scalars(
            select(Revision)
            .where(Revision.entity == entity, Revision.entity_id == entity_id)
            .order_by(Revision.version.desc())
        )
    )


def diff(before: str, after: str) -> list[tuple[str, str]]:
    """Lines of a change as ("same"|"added"|"removed", line), for showing a revision."""
    out: list[tuple[str, str]] = []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("? "):
            continue
        kind = {"+ ": "added", "- ": "removed"}.get(line[:2], "same")
        out.append((kind, line[2:]))
    return out


def forget(session: Session, entity: str, entity_id: int) -> None:
    """Drop a deleted document's revisions."""
    session.execute(
        delete(Revision).where(Revision.entity == entity, Revision.entity_id == entity_id)
    )


def _conflict(
    session: Session, entity: str, entity_id: int, document: Any, expected_version: int,
    changes: dict[str, Any], text_fields: tuple[str, ...],
) -> EditConflict:  # fmt: skip
    base = state_at(session, entity, entity_id, expected_version)
    merges: list[FieldMerge] = []
    for name in text_fields:
        if name not in changes:
            continue
        theirs = _text(getattr(document, name))
        mine = _text(changes[name])
        start = _text(base.get(name, theirs))
        merged, clean = merge3(start, theirs, mine)
        merges.append(FieldMerge(name, start, theirs, mine, merged, clean))
    last = session.execute(
        select(Revision.author_label, User.name)
        .outerjoin(User, User.id == Revision.author_id)
        .where(Revision.entity == entity, Revision.entity_id == entity_id)
        .order_by(Revision.version.desc())
        .limit(1)
    ).first()
    # The colleague's name, as the writer knows them (the label for a command or a token).
    changed_by = (last[1] or last[0]) if last is not None else ""
    return EditConflict(
        entity=entity, entity_id=entity_id, expected_version=expected_version,
        current_version=int(document.version), fields=merges, changed_by=changed_by,
    )  # fmt: skip


def _identity(document: Any) -> Any:
    from sqlalchemy import inspect

    key = inspect(document).identity
    if key is None:
        raise ValueError("save_fields needs a stored document")
    return key[0]


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
