"""Three-way merging and saving with a version: a concurrent edit is never lost."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.documents.service import EditConflict, history, merge3, save_fields, state_at
from banso.timeline.service import TEXT_FIELDS
from tests.conftest import Person
from tests.factories import make_account
from tests.timeline.helpers import make_entry

BASE = "一\n二\n三\n四\n五\n"


def test_it_takes_the_only_side_that_changed() -> None:
    assert merge3(BASE, BASE, "新\n") == ("新\n", True)
    assert merge3(BASE, "新\n", BASE) == ("新\n", True)
    assert merge3(BASE, "同じ\n", "同じ\n") == ("同じ\n", True)


def test_it_merges_changes_to_different_lines() -> None:
    theirs = BASE.replace("一", "いち")
    mine = BASE.replace("五", "ご")
    assert merge3(BASE, theirs, mine) == ("いち\n二\n三\n四\nご\n", True)


def test_it_merges_an_insertion_and_a_deletion_apart() -> None:
    theirs = "零\n" + BASE
    mine = BASE.replace("四\n", "")
    assert merge3(BASE, theirs, mine) == ("零\n一\n二\n三\n五\n", True)


def test_it_marks_a_clash_and_keeps_both_sides() -> None:
    merged, clean = merge3(BASE, BASE.replace("三", "さん"), BASE.replace("三", "サン"))
    assert not clean
    assert merged == (
        "一\n二\n<<<<<<< 保存済み / saved\nさん\n=======\nサン\n>>>>>>> あなたの変更 / yours\n"
        "四\n五\n"
    )


def test_it_marks_two_insertions_at_the_same_place() -> None:
    merged, clean = merge3("a\n", "a\nb\n", "a\nc\n")
    assert not clean and "b\n" in merged and "c\n" in merged


def test_it_handles_text_without_a_final_newline() -> None:
    merged, clean = merge3("x", "y", "z")
    assert not clean and merged.endswith(">>>>>>> あなたの変更 / yours\n")
    assert "y\n" in merged and "z\n" in merged


def test_save_fields_writes_a_revision_and_reports_no_change(
    session: Session, actor: Actor
) -> None:
    entry = make_entry(session, actor, make_account(session), body=BASE)
    assert (
        save_fields(
            session, actor, "timeline_entry", entry, 1, {"body": BASE}, text_fields=TEXT_FIELDS
        )
        is False
    )
    assert (
        save_fields(
            session, actor, "timeline_entry", entry, 1, {"body": "新\n"}, text_fields=TEXT_FIELDS
        )
        is True
    )
    assert entry.version == 2
    assert state_at(session, "timeline_entry", entry.id, 1)["body"] == BASE
    assert state_at(session, "timeline_entry", entry.id, 2)["body"] == "新\n"
    assert [r.version for r in history(session, "timeline_entry", entry.id)] == [2, 1]


def test_save_fields_raises_a_conflict_with_every_text_field_merged(
    session: Session, actor: Actor, bob: Person
) -> None:
    entry = make_entry(session, actor, make_account(session), body=BASE, title="題")
    save_fields(
        session,
        bob.actor,
        "timeline_entry",
        entry,
        1,
        {"body": BASE.replace("一", "いち")},
        text_fields=TEXT_FIELDS,
    )
    with pytest.raises(EditConflict) as caught:
        save_fields(
            session,
            actor,
            "timeline_entry",
            entry,
            1,
            {"body": BASE.replace("五", "ご"), "title": "新しい題"},
            text_fields=TEXT_FIELDS,
        )
    conflict = caught.value
    assert conflict.status_code == 409
    assert (conflict.expected_version, conflict.current_version) == (1, 2)
    merged = {f.name: f for f in conflict.fields}
    assert merged["body"].merged == "いち\n二\n三\n四\nご\n" and merged["body"].clean
    assert merged["title"].merged == "新しい題" and merged["title"].clean
    assert conflict.clean and conflict.changed_by == bob.user.name
    assert conflict.as_dict()["current"] == {"version": 2}
    assert entry.body == BASE.replace("一", "いち") and entry.title == "題"


def test_it_merges_texts_whose_line_endings_differ() -> None:
    # A browser posts a textarea with CRLF; the stored text may have LF.
    base = "一\n二\n三\n"
    merged, clean = merge3(base, "いち\n二\n三\n", "一\r\n二\r\nさん\r\n")
    assert clean and merged == "いち\n二\nさん\n"
