from __future__ import annotations

from sqlalchemy.orm import Session

from banso.audit.service import Actor
from banso.knowledge.schemas import PageEdit
from banso.knowledge.service import search_documents, set_archived, update_page
from banso.search.documents import search
from tests.knowledge.factories import make_page


def found(session: Session, q: str) -> list[str]:
    return [h.url for h in search(session, q, kinds=("knowledge_page",)).hits]


def test_it_finds_a_page_by_a_two_character_japanese_word(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, title="解約防止の行動指針", body="更新の三か月前に連絡する。")

    assert found(session, "解約") == [f"/knowledge/{page.slug}"]
    assert found(session, "連絡") == [f"/knowledge/{page.slug}"]


def test_it_searches_the_saved_text_and_tags(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, title="指針", body="古い本文", tags="オンボーディング")
    update_page(session, actor, page, PageEdit(title="指針", kind="principle", body="新しい本文",
                                               tags=["オンボーディング"], version=1))  # fmt: skip

    assert found(session, "新しい") == [f"/knowledge/{page.slug}"]
    assert found(session, "古い") == []
    assert found(session, "オンボーディング") == [f"/knowledge/{page.slug}"]


def test_it_takes_archived_pages_out_of_search(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, title="廃止された手順")
    set_archived(session, actor, page, True)
    assert found(session, "廃止") == []
    assert [d.ref_id for d in search_documents(session)] == []

    set_archived(session, actor, page, False)
    assert found(session, "廃止") == [f"/knowledge/{page.slug}"]
    (doc,) = search_documents(session)
    assert (doc.kind, doc.ref_id, doc.account_id, doc.url) == (
        "knowledge_page",
        page.id,
        None,
        f"/knowledge/{page.slug}",
    )
