"""A meeting as a file to send to the customer: Markdown (UTF-8) or PDF.

Our hypotheses are internal (what we expected before the meeting); they are left out unless
the writer asks for them, so the usual export is the minutes the customer can read.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.documents.markdown import plain_text
from banso.i18n import N_, format_date, format_datetime, gettext
from banso.meetings.models import Meeting, MeetingItem
from banso.meetings.service import get_meeting, items_of, tasks_of, users_by_id
from banso.tasks.labels import OWNER_LABELS
from banso.tasks.labels import STATUS_LABELS as TASK_STATUS_LABELS
from banso.tasks.models import Task

STATUS_LABELS = {
    "planned": N_("Planned"),
    "held": N_("Held"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}
PDF_FONT = "HeiseiKakuGo-W5"


@dataclass
class MeetingFile:
    meeting: Meeting
    account: Account
    items: list[MeetingItem]
    tasks: dict[int | None, list[Task]]
    people: dict[int, str]  # user id → name
    contacts: dict[int, str]  # contact id → name
    hypotheses: bool


def gather(session: Session, meeting_id: int, *, hypotheses: bool = False) -> MeetingFile:
    meeting = get_meeting(session, meeting_id)
    account = session.get(Account, meeting.account_id)
    assert account is not None
    tasks = tasks_of(session, meeting_id)
    all_tasks = [t for ts in tasks.values() for t in ts]
    users = users_by_id(session, {t.assignee_id for t in all_tasks} | {meeting.owner_id})
    contact_ids = {t.contact_id for t in all_tasks if t.contact_id is not None}
    contacts = {
        c.id: c.name
        for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))
    } if contact_ids else {}  # fmt: skip
    return MeetingFile(
        meeting, account, items_of(session, meeting_id), tasks,
        {i: u.name for i, u in users.items()}, contacts, hypotheses,
    )  # fmt: skip


def _task_line(f: MeetingFile, task: Task) -> str:
    parts = [gettext(OWNER_LABELS.get(task.owner_type, task.owner_type))]
    who = f.people.get(task.assignee_id or 0) or f.contacts.get(task.contact_id or 0)
    if who:
        parts.append(who)
    if task.due_date is not None:
        parts.append(gettext("due %(day)s") % {"day": format_date(task.due_date)})
    parts.append(gettext(TASK_STATUS_LABELS.get(task.status, task.status)))
    box = "x" if task.status == "done" else " "
    return f"- [{box}] {task.title} ({' / '.join(parts)})"


def _sections(f: MeetingFile, item: MeetingItem) -> list[tuple[str, str]]:
    sections = []
    if f.hypotheses:
        sections.append((gettext("Our hypothesis"), item.hypothesis))
    sections += [
        (gettext("Customer's view"), item.customer_view),
        (gettext("Decision"), item.decision),
    ]
    return [(label, text) for label, text in sections if text.strip()]


def to_markdown(f: MeetingFile) -> str:
    """The meeting as a Markdown document."""
    m = f.meeting
    lines = [f"# {m.title}", ""]
    facts = [
        (gettext("Customer"), f.account.name),
        (gettext("Date"), format_datetime(m.scheduled_at)),
        (gettext("Location"), m.location or ""),
        (gettext("Status"), gettext(STATUS_LABELS.get(m.status, m.status))),
    ]
    lines += [f"- **{label}**: {value}" for label, value in facts if value]
    lines.append("")
    for label, text in ((gettext("Attendees"), m.attendees), (gettext("Purpose"), m.purpose)):
        if text and text.strip():
            lines += [f"## {label}", "", text.strip(), ""]
    lines += [f"## {gettext('Agenda')}", ""]
    for number, item in enumerate(f.items, start=1):
        lines += [f"### {number}. {item.topic}", ""]
        for label, text in _sections(f, item):
            lines += [f"**{label}**", "", text.strip(), ""]
        todos = f.tasks.get(item.id, [])
        if todos:
            lines += [f"**{gettext('TODO')}**", ""]
            lines += [_task_line(f, t) for t in todos]
            lines.append("")
    loose = f.tasks.get(None, [])
    if loose:
        lines += [f"## {gettext('TODO')}", ""] + [_task_line(f, t) for t in loose] + [""]
    if m.summary and m.summary.strip():
        lines += [f"## {gettext('Summary')}", "", m.summary.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _safe_name(title: str, day: datetime) -> str:
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip() or "meeting"
    return f"{day:%Y-%m-%d} {cleaned[:80]}"


def content_disposition(f: MeetingFile, extension: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one as RFC 5987 ``filename*``."""
    name = f"{_safe_name(f.meeting.title, f.meeting.scheduled_at)}.{extension}"
    fallback = f"meeting-{f.meeting.id}.{extension}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# ------------------------------------------------------------------ PDF


def _paragraphs(text: str) -> list[str]:
    """Markdown lines as reportlab paragraph markup (escaped), bullets kept as bullets."""
    out: list[str] = []
    for raw in text.strip().splitlines():
        if not raw.strip():
            continue
        bullet = re.match(r"^\s*([-*+]|\d+[.)])\s+", raw)
        words = xml_escape(plain_text(raw))
        out.append(f"• {words}" if bullet else words)
    return out


def to_pdf(f: MeetingFile) -> bytes:
    """The meeting as an A4 PDF; Japanese through reportlab's built-in CID font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))

    def style(name: str, size: float, space: float = 4, indent: float = 0) -> ParagraphStyle:
        return ParagraphStyle(
            name, fontName=PDF_FONT, fontSize=size, leading=size * 1.5, spaceAfter=space,
            wordWrap="CJK", leftIndent=indent,
        )  # fmt: skip

    title, h2, h3 = style("title", 18, 8), style("h2", 13, 4), style("h3", 11.5, 3)
    label, body = style("label", 9.5, 1), style("body", 10, 3, indent=4 * mm)
    m = f.meeting
    story: list[object] = [Paragraph(xml_escape(m.title), title)]
    facts = [
        (gettext("Customer"), f.account.name),
        (gettext("Date"), format_datetime(m.scheduled_at)),
        (gettext("Location"), m.location or ""),
    ]
    for name, value in facts:
        if value:
            story.append(Paragraph(f"{xml_escape(name)}: {xml_escape(value)}", label))
    for name, text in ((gettext("Attendees"), m.attendees), (gettext("Purpose"), m.purpose)):
        if text and text.strip():
            story.append(Paragraph(xml_escape(name), h2))
            story += [Paragraph(p, body) for p in _paragraphs(text)]
    story += [Spacer(1, 3 * mm), Paragraph(xml_escape(gettext("Agenda")), h2)]
    for number, item in enumerate(f.items, start=1):
        story.append(Paragraph(f"{number}. {xml_escape(item.topic)}", h3))
        for name, text in _sections(f, item):
            story.append(Paragraph(xml_escape(name), label))
            story += [Paragraph(p, body) for p in _paragraphs(text)]
        todos = f.tasks.get(item.id, [])
        if todos:
            story.append(Paragraph(xml_escape(gettext("TODO")), label))
            story += [Paragraph(p, body) for t in todos for p in _paragraphs(_task_line(f, t))]
    if m.summary and m.summary.strip():
        story.append(Paragraph(xml_escape(gettext("Summary")), h2))
        story += [Paragraph(p, body) for p in _paragraphs(m.summary)]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, title=m.title, author="banso", leftMargin=18 * mm,
        rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
    )  # fmt: skip
    document.build(story)
    return out.getvalue()
