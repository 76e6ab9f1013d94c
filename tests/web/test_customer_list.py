"""The customer list page over HTTP: search, filters, sort, pages, segments, bulk, export, chart."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.models import AuditEntry
from banso.segments.models import Segment
from tests.conftest import Person
from tests.factories import make_account, make_contract
from tests.web.conftest import Browse


@pytest.fixture
def browse(web_client: Browse) -> Browse:
    """A client signed in as the given person (or a visitor, for None)."""
    return lambda person: web_client(person, follow_redirects=True)


def csrf(client: TestClient) -> str:
    """The CSRF token the list page gives its forms (or its HTMX requests' headers)."""
    page = client.get("/customers")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text) or re.search(
        r"X-CSRF-Token&#34;: &#34;([^&]+)&#34;|X-CSRF-Token\"\s*:\s*\"([^\"]+)\"", page.text
    )
    return next((g for g in found.groups() if g), "") if found else ""


@pytest.fixture
def customers(session: Session, bob: Person) -> dict[str, Account]:
    made = {
        "tokyo": make_account(session, name="東京商事", segment="SMB", source="web",
                              lifecycle_stage="stable", owner_id=bob.user.id, tags=["解約予定"]),
        "logistics": make_account(session, name="東京物流", segment="SMB", source="event",
                                  lifecycle_stage="churned"),
        "osaka": make_account(session, name="大阪商事", segment="Enterprise", source="web",
                              lifecycle_stage="stable"),
        "evil": make_account(session, name="<script>alert(1)</script>' OR 1=1 --",
                             segment="<b>SMB</b>"),
    }  # fmt: skip
    for account, mrr in zip(made.values(), (30_000, 50_000, 400_000, 1_000), strict=True):
        make_contract(session, account, mrr=mrr)
    session.flush()
    return made


def names_in(html: str) -> list[str]:
    return re.findall(r'<a href="/customers/\d+">([^<]*)</a>', html)


def test_it_searches_in_japanese_and_filters(
    browse: Browse, bob: Person, customers: dict[str, Account]
) -> None:
    client = browse(bob)
    page = client.get("/customers", params={"q": "東京"})
    assert page.status_code == 200
    assert names_in(page.text) == ["東京商事", "東京物流"]
    page = client.get("/customers", params={"q": "とうきょう 商事"})  # no reading stored: none
    assert names_in(page.text) == []
    page = client.get("/customers", params={"f.stage": "stable", "f.source": "web"})
    assert names_in(page.text) == ["大阪商事", "東京商事"]
    page = client.get("/customers", params={"f.owner": "me"})
    assert names_in(page.text) == ["東京商事"]


def test_it_answers_a_live_search_with_the_results_only(
    browse: Browse, bob: Person, customers: dict[str, Account]
) -> None:
    page = browse(bob).get(
        "/customers",
        params={"q": "解約"},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    assert names_in(page.text) == ["東京商事"]
    assert "<html" not in page.text and 'id="q"' not in page.text


def test_it_sorts_by_a_column_and_pages_with_a_cursor(
    browse: Browse, bob: Person, session: Session, customers: dict[str, Account]
) -> None:
    client = browse(bob)
    page = client.get("/customers", params={"sort": "-mrr", "q": "商事"})
    assert names_in(page.text) == ["大阪商事", "東京商事"]
    for number in range(60):
        make_account(session, name=f"札幌{number:02d}")
    session.flush()
    first = client.get("/customers", params={"q": "札幌"})
    assert names_in(first.text) == [f"札幌{n:02d}" for n in range(50)]
    cursor = re.search(r'cursor=([^"&]+)"', first.text)
    assert cursor
    second = client.get("/customers", params={"q": "札幌", "cursor": cursor.group(1)})
    assert names_in(second.text) == [f"札幌{n:02d}" for n in range(50, 60)]


def test_it_shows_hostile_text_as_text(
    browse: Browse, bob: Person, customers: dict[str, Account]
) -> None:
    page = browse(bob).get("/customers", params={"q": "<script>", "cols": "name,segment"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;b&gt;SMB&lt;/b&gt;" in page.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"f.colour": "red"}, "no field &#39;colour&#39;"),
        ({"sort": "password"}, "cannot sort by &#39;password&#39;"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "is not a cursor from this list"),
        ({"cols": "name,salary"}, "no such column: salary"),
        ({"q": "東" * 201}, "at most 200"),
        ({"f.mrr_min": "lots"}, "not a whole amount"),
    ],
)
def test_it_explains_a_bad_view(
    browse: Browse, bob: Person, params: dict[str, str], message: str
) -> None:
    page = browse(bob).get("/customers", params=params)
    assert page.status_code == 422
    assert message in page.text


def test_it_explains_a_bad_live_search_in_the_results(browse: Browse, bob: Person) -> None:
    page = browse(bob).get(
        "/customers",
        params={"q": "東" * 201},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )
    assert page.status_code == 200  # HTMX swaps in successful answers only
    assert "at most 200" in page.text and 'role="alert"' in page.text


def test_it_saves_a_segment_the_team_sees(
    browse: Browse, bob: Person, charlie: Person, session: Session, customers: dict[str, Account]
) -> None:
    client = browse(bob)
    saved = client.post(
        "/segments",
        data={
            "name": "東京の安定顧客",
            "view": "q=東京&f.stage=stable",
            "csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    segment = session.scalars(select(Segment)).one()
    assert saved.headers["location"].endswith(f"segment={segment.id}")
    shown = browse(charlie).get(saved.headers["location"])
    assert "東京の安定顧客" in shown.text
    assert names_in(shown.text) == ["東京商事"]


def test_it_refuses_a_bad_segment_name_and_keeps_nothing(
    browse: Browse, bob: Person, session: Session
) -> None:
    client = browse(bob)
    for name in ("", " ", "x" * 101):
        answer = client.post(
            "/segments", data={"name": name, "view": "", "csrf_token": csrf(client)},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303
    assert session.scalars(select(Segment)).all() == []


def test_it_confirms_a_bulk_change_with_the_number_of_accounts(
    browse: Browse, bob: Person, session: Session, customers: dict[str, Account]
) -> None:
    client = browse(bob)
    form = {"view": "q=東京", "action": "stage", "value_stage": "early_operation", "scope": "all"}
    review = client.post("/customers/bulk", data={**form, "csrf_token": csrf(client)})
    assert review.status_code == 200
    assert "2 accounts" in review.text
    assert (
        session.scalar(select(Account.lifecycle_stage).where(Account.name == "東京商事"))
        == "stable"
    )
    done = client.post(
        "/customers/bulk",
        data={**form, "value": "early_operation", "confirm_count": "2", "csrf_token": csrf(client)},
    )
    assert done.status_code == 204 and done.headers["HX-Redirect"].startswith("/customers?")
    stages = session.scalars(select(Account.lifecycle_stage).where(Account.name.like("東京%")))
    assert set(stages) == {"early_operation"}
    audited = session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "update"))
    assert set(audited) == {customers["tokyo"].id, customers["logistics"].id}


def test_it_refuses_bulk_and_segments_to_a_viewer(
    browse: Browse, charlie: Person, session: Session, customers: dict[str, Account]
) -> None:
    client = browse(charlie)
    token = csrf(client)
    bulk = client.post(
        "/customers/bulk",
        data={"view": "", "action": "tag", "value": "x", "scope": "all", "confirm_count": "4",
              "csrf_token": token},
    )  # fmt: skip
    assert bulk.status_code == 403
    segment = client.post("/segments", data={"name": "mine", "view": "", "csrf_token": token})
    assert segment.status_code == 403
    assert session.scalars(select(Segment)).all() == []
    assert client.get("/customers/export.csv").status_code == 200


def test_it_exports_the_view_in_utf8_and_shift_jis(
    browse: Browse, charlie: Person, customers: dict[str, Account]
) -> None:
    client = browse(charlie)
    utf8 = client.get("/customers/export.csv", params={"q": "東京", "cols": "name,tags"})
    assert utf8.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(utf8.content.decode("utf-8-sig"))))
    assert [r[1:] for r in rows[1:]] == [["東京商事", "解約予定"], ["東京物流", ""]]
    sjis = client.get("/customers/export.csv", params={"q": "東京", "encoding": "cp932"})
    assert "東京物流" in sjis.content.decode("cp932")
    bad = client.get("/customers/export.csv", params={"encoding": "latin-9"})
    assert bad.status_code == 422 and "utf-8 or cp932" in bad.text
    xlsx = client.get("/customers/export.xlsx", params={"q": "大阪", "cols": "name,mrr"})
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert [row[1:] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("大阪商事", 400_000)
    ]


def test_it_charts_the_view_with_the_numbers_in_a_table(
    browse: Browse, charlie: Person, customers: dict[str, Account]
) -> None:
    page = browse(charlie).get(
        "/customers/chart", params={"q": "商事", "by": "segment", "measure": "mrr"}
    )
    assert page.status_code == 200
    data = re.search(r"data-chart='([^']+)'", page.text)
    assert data
    chart = json.loads(html.unescape(data.group(1)))
    assert chart["labels"] == ["Enterprise", "SMB"]
    assert chart["datasets"][0]["data"] == [400_000, 30_000]
    bad = browse(charlie).get("/customers/chart", params={"by": "salary"})
    assert bad.status_code == 422 and "cannot group by" in bad.text
