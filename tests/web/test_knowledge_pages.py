from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.knowledge.models import KnowledgePage
from tests.conftest import Person
from tests.knowledge.factories import TEMPLATE_BODY, make_page
from tests.web.conftest import Browse, form_token


def create(client: TestClient, **fields: str) -> object:
    token = form_token(client.get("/knowledge/new").text)
    data = {"title": "解約防止の行動指針", "kind": "principle", "body": "本文", "tags": "",
            "csrf_token": token, **fields}  # fmt: skip
    return client.post("/knowledge", data=data, follow_redirects=False)


def test_it_creates_a_page_and_shows_it(web_client: Browse, bob: Person, session: Session) -> None:
    client = web_client(bob)

    answer = create(
        client, body="## 原則\n顧客の**成功**を先に考える。", tags="解約防止, Onboarding"
    )

    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = client.get(answer.headers["location"])  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert "<strong>成功</strong>" in page.text
    assert "#onboarding" in page.text and "#解約防止" in page.text
    assert "/meetings/new?template=" not in page.text


def test_it_renders_markdown_without_running_anything(
    web_client: Browse, bob: Person, session: Session
) -> None:
    hostile = (
        "<script>alert(1)</script>\n\n<iframe src='https://evil.example'></iframe>\n\n"
        "[click](javascript:alert(2)) <img src=x onerror=alert(3)>"
    )
    page = make_page(session, bob.actor, title="危険な本文", body=hostile)

    html = web_client(bob).get(f"/knowledge/{page.slug}").text
    article = html.split('<article class="kb-body">', 1)[1].split("</article>", 1)[0]

    # Typed HTML is shown as text; no tag, link or attribute of it reaches the browser.
    assert "<script" not in article and "<iframe" not in article and "<img" not in article
    assert "&lt;script&gt;" in article
    assert 'href="javascript' not in article and "<a " not in article


def test_it_offers_a_template_to_start_a_meeting(
    web_client: Browse, charlie: Person, bob: Person, session: Session
) -> None:
    page = make_page(session, bob.actor, title="更新提案", kind="template", body=TEMPLATE_BODY)

    html = web_client(charlie).get(f"/knowledge/{page.slug}").text

    assert f'href="/meetings/new?template={page.id}"' in html
    assert "利用状況の振り返り" in html and "3 agenda items" in html


def test_it_filters_by_kind_and_tag(web_client: Browse, bob: Person, session: Session) -> None:
    make_page(session, bob.actor, title="指針その一", kind="principle", tags="a")
    make_page(session, bob.actor, title="プレイブック", kind="playbook", tags="b")
    client = web_client(bob)

    assert "指針その一" not in client.get("/knowledge?kind=playbook").text
    assert "プレイブック" in client.get("/knowledge?kind=playbook").text
    by_tag = client.get("/knowledge?tag=a").text
    assert "指針その一" in by_tag and "プレイブック" not in by_tag
    assert client.get("/knowledge?kind=nonsense").status_code == 200  # unknown kind: all kinds


def test_it_searches_pages_in_japanese(web_client: Browse, bob: Person, session: Session) -> None:
    make_page(session, bob.actor, title="更新交渉の進め方", body="値引きより価値を話す")
    make_page(session, bob.actor, title="関係ない", body="別の話")

    html = web_client(bob).get("/knowledge", params={"q": "値引"}).text

    assert "更新交渉の進め方" in html and "関係ない" not in html
    assert "<mark>" in html


def test_it_pages_through_a_long_list(web_client: Browse, bob: Person, session: Session) -> None:
    for n in range(32):
        make_page(session, bob.actor, title=f"ページ{n:02d}")
    client = web_client(bob)

    first = client.get("/knowledge").text
    cursor = re.search(r'cursor=([^"&]+)', first)
    assert cursor is not None
    second = client.get(f"/knowledge?cursor={cursor.group(1)}").text
    shown = set(re.findall(r"ページ\d\d", first)) | set(re.findall(r"ページ\d\d", second))
    assert len(shown) == 32
    assert client.get("/knowledge?cursor=garbage").status_code == 422


def test_it_explains_bad_input(web_client: Browse, bob: Person, session: Session) -> None:
    client = web_client(bob)
    make_page(session, bob.actor, slug="taken")

    empty = create(client, title="")
    assert empty.status_code == 422  # type: ignore[attr-defined]
    assert "Give the page a title" in empty.text  # type: ignore[attr-defined]
    assert create(client, kind="secret").status_code == 422  # type: ignore[attr-defined]
    assert create(client, body="x" * 100_001).status_code == 422  # type: ignore[attr-defined]
    many = create(client, tags=",".join(f"t{i}" for i in range(21)))
    assert "At most 20 tags" in many.text  # type: ignore[attr-defined]
    taken = create(client, slug="taken")
    assert taken.status_code == 409  # type: ignore[attr-defined]
    assert "Another page already has this address" in taken.text  # type: ignore[attr-defined]
    assert create(client, slug="new").status_code == 422  # type: ignore[attr-defined]
    assert session.query(KnowledgePage).count() == 1


def test_it_says_an_unknown_page_does_not_exist(web_client: Browse, bob: Person) -> None:
    client = web_client(bob)
    assert client.get("/knowledge/no-such-page").status_code == 404
    assert client.get("/knowledge/no-such-page/history").status_code == 404


def test_it_lets_viewers_read_but_not_write(
    web_client: Browse, charlie: Person, bob: Person, session: Session
) -> None:
    page = make_page(session, bob.actor, title="読むだけ")
    viewer = web_client(charlie, follow_redirects=False)
    token = form_token(viewer.get("/knowledge").text)

    assert viewer.get(f"/knowledge/{page.slug}").status_code == 200
    assert viewer.get("/knowledge/new").headers["location"] == "/knowledge"
    assert viewer.get(f"/knowledge/{page.slug}/edit").status_code == 303
    for url in ("/knowledge", f"/knowledge/{page.slug}/edit", f"/knowledge/{page.slug}/archive",
                "/knowledge/preview"):  # fmt: skip
        answer = viewer.post(url, data={"csrf_token": token, "title": "x", "version": "1"})
        assert answer.status_code == 403, url
