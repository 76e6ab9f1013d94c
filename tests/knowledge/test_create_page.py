from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.audit.service import Actor
from banso.documents.service import history
from banso.errors import Conflict
from banso.knowledge.schemas import PageIn
from banso.knowledge.service import create_page, slug_base, tags_of
from tests.knowledge.factories import make_page


def test_it_makes_the_address_from_the_title(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, title="Onboarding Guide for ＣＳＶ 2025")

    assert page.slug == "onboarding-guide-for-csv-2025"
    assert make_page(session, actor, title="Onboarding guide for CSV 2025").slug == (
        "onboarding-guide-for-csv-2025-2"
    )


def test_it_gives_japanese_titles_a_plain_address(session: Session, actor: Actor) -> None:
    first = make_page(session, actor, title="行動指針")
    second = make_page(session, actor, title="解約防止の考え方")

    assert slug_base("行動指針") == "page"
    assert (first.slug, second.slug) == ("page", "page-2")


def test_it_refuses_an_address_already_taken(session: Session, actor: Actor) -> None:
    make_page(session, actor, slug="renewal")

    with pytest.raises(Conflict, match="/knowledge/renewal is taken"):
        make_page(session, actor, title="別のページ", slug="renewal")


@pytest.mark.parametrize("slug", ["new", "preview", "Has Space", "a--b", "-x", "x" * 81, "日本語"])
def test_it_refuses_a_bad_or_reserved_address(slug: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PageIn(title="t", slug=slug)
    assert caught.value.errors()[0]["loc"] == ("slug",)


def test_it_normalises_tags(session: Session, actor: Actor) -> None:
    page = make_page(session, actor, tags="Onboarding, ＣＳＶ取込、 #解約防止,onboarding,\n  ")

    assert tags_of(session, [page.id])[page.id] == ["csv取込", "onboarding", "解約防止"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"kind": "secret"}, "kind"),
        ({"body": "x" * 100_001}, "body"),
        ({"body": "NUL\x00"}, "body"),
        ({"tags": ",".join(f"t{i}" for i in range(21))}, "tags"),
        ({"tags": "x" * 101}, "tags"),
    ],
)
def test_it_refuses_bad_input(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PageIn(**{"title": "ページ", **fields})
    assert caught.value.errors()[0]["loc"][0] == field


def test_it_keeps_the_first_version_and_an_audit_entry(session: Session, actor: Actor) -> None:
    page = create_page(
        session, actor, PageIn(title="提案テンプレート", kind="template", body="## 論点")
    )

    assert page.is_template
    (revision,) = history(session, "knowledge_page", page.id)
    assert revision.version == 1
    assert revision.fields == {"title": "提案テンプレート", "body": "## 論点", "kind": "template"}
    entry = session.scalar(
        select(AuditEntry).where(
            AuditEntry.entity == "knowledge_page", AuditEntry.entity_id == page.id
        )
    )
    assert entry is not None and entry.action == "create"
