from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.errors import InvalidInput, NotFound
from banso.knowledge.service import agenda_items, set_archived, template_pages
from tests.knowledge.factories import TEMPLATE_BODY, make_page


def test_it_splits_a_template_at_its_level_two_headings(session: Session, actor: Actor) -> None:
    page = make_page(
        session, actor, title="更新提案テンプレート", kind="template", body=TEMPLATE_BODY
    )

    items = agenda_items(session, page.id)

    assert [topic for topic, _ in items] == [
        "利用状況の振り返り",
        "更新プランの提案",
        "次のアクション",
    ]
    assert items[0][1] == "ログイン率は先月比で下がっている。原因は担当者の異動と考えている。"
    # The fenced "## " line belongs to the item above it, and the last item has no text.
    assert "## コードの中は見出しではない" in items[1][1]
    assert items[2] == ("次のアクション", "")


def test_it_ignores_the_text_before_the_first_heading(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, kind="template", body="前書き\n\n## 論点A\n仮説A\n### 詳細\nB")

    assert agenda_items(session, page.id) == [("論点A", "仮説A\n### 詳細\nB")]


def test_it_refuses_a_page_that_is_not_a_template(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, kind="principle", body="## 見出し\n本文")

    with pytest.raises(InvalidInput, match="not a template"):
        agenda_items(session, page.id)


def test_it_refuses_a_template_without_headings(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, kind="template", body="# 大見出しだけ\n### 小見出し")

    with pytest.raises(InvalidInput, match="no '## ' heading"):
        agenda_items(session, page.id)


def test_it_says_an_unknown_page_does_not_exist(session: Session) -> None:
    with pytest.raises(NotFound):
        agenda_items(session, 999_999)
    with pytest.raises(NotFound):
        agenda_items(session, 2**40)


def test_it_lists_the_active_templates_by_title(session: Session, actor: Actor) -> None:
    b = make_page(session, actor, title="B 提案", kind="template", body=TEMPLATE_BODY)
    a = make_page(session, actor, title="A 提案", kind="template", body=TEMPLATE_BODY)
    archived = make_page(session, actor, title="0 古い提案", kind="template", body=TEMPLATE_BODY)
    make_page(session, actor, title="指針", kind="principle")
    set_archived(session, actor, archived, True)

    assert [p.id for p in template_pages(session)] == [a.id, b.id]
