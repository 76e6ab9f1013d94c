from __future__ import annotations

from sqlalchemy.orm import Session

from tests.conftest import Person
from tests.knowledge.factories import make_page
from tests.web.conftest import Browse, form_token

BODY = "一行目\n二行目\n三行目\n"


def save(client: object, slug: str, version: str, **fields: str) -> object:
    token = form_token(client.get(f"/knowledge/{slug}/edit").text)  # type: ignore[attr-defined]
    data = {"title": "指針", "kind": "principle", "body": BODY, "tags": "", "version": version,
            "csrf_token": token, **fields}  # fmt: skip
    return client.post(f"/knowledge/{slug}/edit", data=data, follow_redirects=False)  # type: ignore[attr-defined]


def test_it_saves_an_edit_and_shows_the_change(
    web_client: Browse, alice: Person, bob: Person, session: Session
) -> None:
    page = make_page(session, alice.actor, title="指針", body=BODY)
    client = web_client(bob)

    answer = save(client, page.slug, "1", body="一行目\n二行目（改訂）\n三行目\n")

    assert answer.status_code == 303  # type: ignore[attr-defined]
    history = client.get(f"/knowledge/{page.slug}/history").text
    assert "bob@example.com" in history and "Version 2" in history
    change = client.get(f"/knowledge/{page.slug}/versions/2").text
    assert '<span class="removed">' in change and "二行目（改訂）" in change
    assert client.get(f"/knowledge/{page.slug}/versions/3").status_code == 404


def test_it_offers_a_merge_when_someone_saved_first(
    web_client: Browse, alice: Person, bob: Person, session: Session
) -> None:
    page = make_page(session, alice.actor, title="指針", body=BODY)
    client = web_client(bob)
    assert (
        save(client, page.slug, "1", body="一行目（アリス）\n二行目\n三行目\n").status_code == 303
    )  # type: ignore[attr-defined]

    stale = save(client, page.slug, "1", body="一行目\n二行目\n三行目（ボブ）\n")

    assert stale.status_code == 409  # type: ignore[attr-defined]
    html = stale.text  # type: ignore[attr-defined]
    assert "Someone else saved this after you opened it" in html
    assert "一行目（アリス）\n二行目\n三行目（ボブ）" in html
    assert 'name="version" value="2"' in html
    merged = save(client, page.slug, "2", body="一行目（アリス）\n二行目\n三行目（ボブ）\n")
    assert merged.status_code == 303  # type: ignore[attr-defined]
    session.refresh(page)
    assert page.body == "一行目（アリス）\n二行目\n三行目（ボブ）\n" and page.version == 3


def test_it_refuses_bad_edits(web_client: Browse, bob: Person, session: Session) -> None:
    page = make_page(session, bob.actor, title="指針", body=BODY)
    client = web_client(bob)

    assert save(client, page.slug, "1", title="").status_code == 422  # type: ignore[attr-defined]
    assert save(client, page.slug, "x").status_code == 422  # type: ignore[attr-defined]
    assert save(client, page.slug, "1", kind="bad").status_code == 422  # type: ignore[attr-defined]
    assert save(client, "no-such-page", "1").status_code == 404  # type: ignore[attr-defined]
    session.refresh(page)
    assert page.version == 1


def test_it_archives_and_brings_back_a_page(
    web_client: Browse, bob: Person, session: Session
) -> None:
    page = make_page(session, bob.actor, title="古い指針")
    client = web_client(bob)
    token = form_token(client.get(f"/knowledge/{page.slug}").text)
    assert "data-confirm=" in client.get(f"/knowledge/{page.slug}").text

    client.post(f"/knowledge/{page.slug}/archive", data={"csrf_token": token})
    assert "古い指針" not in client.get("/knowledge").text
    assert "古い指針" in client.get("/knowledge?archived=1").text
    assert "This page is archived" in client.get(f"/knowledge/{page.slug}").text

    client.post(f"/knowledge/{page.slug}/unarchive", data={"csrf_token": token})
    assert "古い指針" in client.get("/knowledge").text


def test_it_previews_markdown_safely(web_client: Browse, bob: Person) -> None:
    client = web_client(bob)
    token = form_token(client.get("/knowledge/new").text)

    answer = client.post(
        "/knowledge/preview",
        data={"csrf_token": token, "body": "**太字** <script>x</script> [a](javascript:alert(1))"},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert "<strong>太字</strong>" in answer.text
    assert "<script" not in answer.text and "&lt;script&gt;" in answer.text  # shown as text
    assert 'href="javascript' not in answer.text
