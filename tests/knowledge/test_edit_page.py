from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.documents.service import EditConflict, history
from banso.errors import NotFound
from banso.knowledge.schemas import PageEdit
from banso.knowledge.service import tags_of, update_page, version_change
from tests.conftest import Person
from tests.knowledge.factories import make_page


def edit(version: int, **fields: str) -> PageEdit:
    data = {"title": "指針", "kind": "principle", "body": "一行目\n二行目\n三行目\n", **fields}
    return PageEdit(version=version, **data)  # type: ignore[arg-type]


def test_it_saves_each_version_with_its_change(
    session: Session, alice: Person, bob: Person
) -> None:
    page = make_page(session, alice.actor, title="指針", body="一行目\n二行目\n三行目\n")

    assert update_page(session, bob.actor, page, edit(1, body="一行目\n二行目（改）\n三行目\n"))

    assert page.version == 2 and page.updated_by_id == bob.user.id
    assert [r.version for r in history(session, "knowledge_page", page.id)] == [2, 1]
    change = version_change(session, page, 2)
    assert ("removed", "二行目") in change.body_diff
    assert ("added", "二行目（改）") in change.body_diff
    assert change.author == bob.actor.label
    first = version_change(session, page, 1)
    assert all(kind == "added" for kind, _ in first.body_diff)


def test_it_turns_a_page_into_a_template_and_back(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, title="指針", body="b")

    update_page(session, actor, page, edit(1, kind="template", body="b"))
    assert page.is_template and page.version == 2
    update_page(session, actor, page, edit(2, kind="other", body="b"))
    assert not page.is_template and page.version == 3


def test_it_merges_an_edit_made_from_an_old_version(
    session: Session, alice: Person, bob: Person
) -> None:
    page = make_page(session, alice.actor, title="指針", body="一行目\n二行目\n三行目\n")
    update_page(session, alice.actor, page, edit(1, body="一行目（アリス）\n二行目\n三行目\n"))

    with pytest.raises(EditConflict) as caught:
        update_page(session, bob.actor, page, edit(1, body="一行目\n二行目\n三行目（ボブ）\n"))

    conflict = caught.value
    assert conflict.current_version == 2 and conflict.clean
    body = next(f for f in conflict.fields if f.name == "body")
    assert body.merged == "一行目（アリス）\n二行目\n三行目（ボブ）\n"
    assert page.body == "一行目（アリス）\n二行目\n三行目\n"  # nothing written


def test_it_marks_both_sides_when_edits_clash(session: Session, alice: Person, bob: Person) -> None:
    page = make_page(session, alice.actor, title="指針", body="一行目\n")
    update_page(session, alice.actor, page, edit(1, body="アリスの一行目\n"))

    with pytest.raises(EditConflict) as caught:
        update_page(session, bob.actor, page, edit(1, body="ボブの一行目\n"))

    body = next(f for f in caught.value.fields if f.name == "body")
    assert not body.clean
    assert "アリスの一行目" in body.merged and "ボブの一行目" in body.merged


def test_it_changes_tags_without_a_new_version(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, title="指針", body="一行目\n二行目\n三行目\n", tags="a, b")

    assert update_page(session, actor, page, edit(1, tags="b, c"))
    assert tags_of(session, [page.id])[page.id] == ["b", "c"]
    assert page.version == 1
    assert not update_page(session, actor, page, edit(1, tags="c,b"))


def test_it_says_an_unknown_version_does_not_exist(session: Session, actor: Actor) -> None:
    page = make_page(session, actor)

    with pytest.raises(NotFound):
        version_change(session, page, 2)
    with pytest.raises(NotFound):
        version_change(session, page, 0)
