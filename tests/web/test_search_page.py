"""The search page: find written documents, filters, pages, and bad input shown on the page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from banso.search.documents import Doc, put_many
from tests.conftest import Person
from tests.factories import make_account
from tests.web.conftest import Browse


def _doc(ref_id: int, title: str, body: str, **fields: object) -> Doc:
    values: dict[str, object] = {
        "kind": "timeline_entry",
        "ref_id": ref_id,
        "account_id": None,
        "author_id": None,
        "occurred_at": datetime(2024, 4, ref_id, 3, tzinfo=UTC),
        "title": title,
        "body": body,
        "url": f"/timeline/{ref_id}",
    }
    values.update(fields)
    return Doc(**values)  # type: ignore[arg-type]


@pytest.fixture
def indexed(session: Session, bob: Person) -> dict[str, int]:
    tokyo = make_account(session, name="東京システム株式会社")
    kyoto = make_account(session, name="京都物産")
    session.flush()
    put_many(
        session,
        [
            _doc(1, "解約ヒアリング", "価格が<script>alert(1)</script>高いので**解約**したい",
                 account_id=tokyo.id, author_id=bob.user.id),
            _doc(2, "定例ミーティング", "解約の話は出なかった",
                 account_id=kyoto.id, kind="meeting"),
            _doc(3, "Renewal call", "Budget approved", account_id=kyoto.id, kind="task"),
        ],
    )  # fmt: skip
    return {"tokyo": tokyo.id, "kyoto": kyoto.id}


def test_it_finds_documents_with_highlighted_snippets(
    web_client: Browse, charlie: Person, indexed: dict[str, int]
) -> None:
    page = web_client(charlie).get("/search", params={"q": "解約"})  # a viewer may search
    assert page.status_code == 200
    html = page.text
    assert '<a href="/timeline/1"><mark>解約</mark>ヒアリング</a>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert f'<a href="/customers/{indexed["tokyo"]}">東京システム株式会社</a>' in html
    assert "Timeline entry" in html and "Meeting" in html
    assert "/timeline/3" not in html


def test_it_filters_by_type_customer_author_and_date(
    web_client: Browse, bob: Person, indexed: dict[str, int]
) -> None:
    client = web_client(bob)
    assert "/timeline/1" not in client.get("/search?q=解約&kind=meeting").text
    assert "/timeline/2" in client.get("/search?q=解約&kind=meeting").text
    by_account = client.get(f"/search?q=解約&account={indexed['kyoto']}").text
    assert "/timeline/2" in by_account and "/timeline/1" not in by_account
    assert "京都物産" in by_account
    by_name = client.get("/search", params={"q": "解約", "customer": "東京システム"}).text
    assert "/timeline/1" in by_name and "/timeline/2" not in by_name
    by_author = client.get(f"/search?q=解約&author={bob.user.id}").text
    assert "/timeline/1" in by_author and "/timeline/2" not in by_author
    dated = client.get("/search?q=解約&from=2024-04-02&to=2024-04-02").text
    assert "/timeline/2" in dated and "/timeline/1" not in dated


def test_it_pages_with_a_next_link(session: Session, web_client: Browse, bob: Person) -> None:
    put_many(session, [_doc(d, f"定例 {d}", "議事録") for d in range(1, 26)])
    client = web_client(bob)
    first = client.get("/search?q=議事録").text
    assert first.count('class="sr-hit"') == 20
    link = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(link.replace("&amp;", "&")).text
    assert second.count('class="sr-hit"') == 5
    assert 'rel="next"' not in second


def test_it_says_when_nothing_is_found(web_client: Browse, bob: Person, indexed: dict) -> None:
    page = web_client(bob).get("/search?q=請求書")
    assert page.status_code == 200
    assert "Nothing found" in page.text


def test_it_explains_bad_input_instead_of_failing(
    web_client: Browse, bob: Person, indexed: dict[str, int]
) -> None:
    client = web_client(bob)
    cases = {
        "q=" + "あ" * 300: "at most 200 characters",
        "q=解約&kind=email": "Choose one of the types.",
        "q=解約&author=abc": "Choose one of the authors.",
        "q=解約&account=x1": "Choose a customer from the list.",
        "q=解約&account=99999999": "Choose a customer from the list.",
        "q=解約&customer=存在しない会社": "Choose a customer from the list.",
        "q=解約&from=2024-13-01": "Enter the start as a date",
        "q=解約&from=2024-05-01&to=2024-04-01": "Enter the end as a date",
        "q=解約&cursor=garbage": "This page link is out of date",
    }
    for query, message in cases.items():
        page = client.get("/search?" + query)
        assert page.status_code == 422, query
        assert message in page.text, query


def test_it_sends_visitors_to_sign_in(web_client: Browse) -> None:
    page = web_client(None, follow_redirects=False).get("/search?q=解約")
    assert page.status_code in (302, 303, 401)
