"""A meeting downloaded as Markdown or PDF to send to the customer."""

from __future__ import annotations

from urllib.parse import unquote

from sqlalchemy.orm import Session

from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting
from tests.web.conftest import Browse


def test_it_downloads_markdown_with_a_utf8_file_name(
    session: Session, web_client: Browse, bob: Person, charlie: Person
) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session), title="定例会議")
    make_item(session, bob.actor, meeting, topic="更新条件", hypothesis="内部の仮説")
    answer = web_client(charlie).get(f"/meetings/{meeting.id}/export.md")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert f'filename="meeting-{meeting.id}.md"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]).endswith("定例会議.md")
    text = answer.content.decode("utf-8")
    assert text.startswith("# 定例会議") and "更新条件" in text and "内部の仮説" not in text
    internal = web_client(bob).get(f"/meetings/{meeting.id}/export.md?hypotheses=1").text
    assert "内部の仮説" in internal


def test_it_downloads_a_pdf(session: Session, web_client: Browse, bob: Person) -> None:
    meeting = make_meeting(session, bob.actor, make_account(session), title="定例会議")
    answer = web_client(bob).get(f"/meetings/{meeting.id}/export.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-") and b"/Type /Page" in answer.content
    assert web_client(bob).get("/meetings/999999/export.pdf").status_code == 404
