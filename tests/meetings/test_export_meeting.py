from __future__ import annotations

import base64
import re
import zlib
from datetime import date

from sqlalchemy.orm import Session

from banso.meetings import export, service
from banso.meetings.schemas import ItemPatch, MeetingPatch, TodoIn
from tests.conftest import Person
from tests.factories import make_account
from tests.meetings.factories import make_item, make_meeting


def _filled(session: Session, bob: Person) -> int:
    account = make_account(session, name="株式会社サンプル")
    meeting = make_meeting(
        session, bob.actor, account, title="四半期レビュー/6月", purpose="更新に向けた確認"
    )
    item = make_item(session, bob.actor, meeting, topic="利用状況", hypothesis="社内の秘密の仮説")
    service.update_item(
        session,
        bob.actor,
        meeting.id,
        item.id,
        ItemPatch(
            version=1,
            customer_view="- 営業部は毎日利用\n- 経理部は未利用",
            decision="経理部に説明会",
        ),
    )
    service.add_todo(
        session,
        bob.actor,
        meeting.id,
        item.id,
        TodoIn(
            title="説明会の日程調整",
            owner_type="us",
            assignee_id=bob.user.id,
            due_date=date(2025, 6, 20),
        ),
    )
    service.update_meeting(
        session, bob.actor, meeting.id, MeetingPatch(version=meeting.version, summary="次回は9月")
    )
    return meeting.id


def test_it_writes_the_minutes_as_markdown_without_our_hypotheses(
    session: Session, bob: Person
) -> None:
    text = export.to_markdown(export.gather(session, _filled(session, bob)))
    assert text.startswith("# 四半期レビュー/6月\n")
    assert "株式会社サンプル" in text
    assert "### 1. 利用状況" in text
    assert "- 営業部は毎日利用" in text and "経理部に説明会" in text
    assert "- [ ] 説明会の日程調整 (当社側 / bob / 期限 2025/06/20 / オープン)" in text
    assert "次回は9月" in text
    assert "秘密の仮説" not in text


def test_it_adds_our_hypotheses_when_asked(session: Session, bob: Person) -> None:
    found = export.gather(session, _filled(session, bob), hypotheses=True)
    assert "社内の秘密の仮説" in export.to_markdown(found)


def test_it_names_the_file_in_ascii_and_in_utf8(session: Session, bob: Person) -> None:
    meeting_id = _filled(session, bob)
    header = export.content_disposition(export.gather(session, meeting_id), "md")
    assert header.startswith(f"attachment; filename=\"meeting-{meeting_id}.md\"; filename*=UTF-8''")
    encoded = header.split("''", 1)[1]
    assert encoded.isascii() and "/" not in encoded
    assert "%E5%9B%9B%E5%8D%8A%E6%9C%9F" in encoded  # 四半期


def _text_of(pdf: bytes) -> bytes:
    """Every content stream of a PDF, decoded (reportlab writes ASCII85 over Flate)."""
    out = b""
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = match.group(1).strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True)
        try:
            out += zlib.decompress(data)
        except zlib.error:
            out += data
    return out


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _shown_text(content: bytes) -> str:
    """The text a content stream shows with the CID font (UTF-16BE string literals)."""
    shown = []
    for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S):
        raw = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: (
                bytes([int(m.group(1), 8)])
                if m.group(1)[:1].isdigit()
                else _ESCAPES.get(m.group(1), m.group(1))
            ),
            literal,
            flags=re.S,
        )
        shown.append(raw.decode("utf-16-be", errors="replace"))
    return "".join(shown)


def test_it_writes_a_pdf_with_japanese_text(session: Session, bob: Person) -> None:
    pdf = export.to_pdf(export.gather(session, _filled(session, bob)))
    assert pdf.startswith(b"%PDF-")
    assert b"/Type /Page" in pdf
    assert b"HeiseiKakuGo-W5" in pdf
    content = _text_of(pdf)
    shown = _shown_text(content)
    assert "四半期レビュー/6月" in shown
    assert "経理部に説明会" in shown
    assert "秘密の仮説" not in shown
