from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tests.conftest import Person
from tests.factories import make_account
from tests.observations.factories import make_moment, make_session
from tests.web.conftest import Browse


def seed(session: Session, person: Person) -> None:
    a, b = make_account(session, name="甲商事"), make_account(session, name="乙工業")
    june = make_session(session, person.actor, a, held_at=datetime(2025, 6, 2, tzinfo=UTC))
    may = make_session(session, person.actor, b, held_at=datetime(2025, 5, 2, tzinfo=UTC))
    make_moment(session, person.actor, june, step="初期設定 > CSV取込", severity=3, at_seconds=42,
                note="=HYPERLINK(\"http://x\")")  # fmt: skip
    make_moment(session, person.actor, may, step="請求", kind="idea", note="一括発行")


def test_it_shows_friction_by_step(web_client: Browse, charlie: Person, session: Session) -> None:
    seed(session, charlie)
    client = web_client(charlie)

    html = client.get("/observations/friction").text
    assert html.index("初期設定 &gt; CSV取込") < html.index("請求")
    june = client.get("/observations/friction", params={"from": "2025-06-01", "to": "2025-06-30"})
    assert "初期設定 &gt; CSV取込" in june.text and "一括発行" not in june.text
    ideas = client.get("/observations/friction", params={"kind": "idea"}).text
    assert "一括発行" in ideas and "CSV取込" not in ideas.split("<tbody>", 1)[1]


def test_it_refuses_a_bad_filter(web_client: Browse, charlie: Person) -> None:
    client = web_client(charlie)

    assert client.get("/observations/friction", params={"from": "6月"}).status_code == 422
    backwards = {"from": "2025-07-01", "to": "2025-06-01"}
    assert client.get("/observations/friction", params=backwards).status_code == 422
    assert client.get("/observations/friction", params={"kind": "anger"}).status_code == 422
    assert client.get("/observations/friction.csv", params={"kind": "anger"}).status_code == 422


def test_it_exports_one_row_per_moment_for_excel(
    web_client: Browse, charlie: Person, session: Session
) -> None:
    seed(session, charlie)

    answer = web_client(charlie).get("/observations/friction.csv")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Japanese
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Held at", "Customer", "Session", "Step"]
    assert len(rows) == 3
    by_step = {r[3]: r for r in rows[1:]}
    csv_row = by_step["初期設定 > CSV取込"]
    assert csv_row[1] == "甲商事" and csv_row[5] == "Irritation" and csv_row[6] == "3"
    assert csv_row[7] == '\'=HYPERLINK("http://x")'  # no formula for Excel to run
    assert csv_row[9] == "https://video.example.com/rec/1#t=42"
