from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.errors import InvalidInput
from banso.notify.outbox import deliver, enqueue
from banso.notify.smtp import SmtpTransport
from banso.settings import load_settings
from tests.notify.conftest import Inbox, free_port


def test_it_delivers_japanese_mail_through_a_real_smtp_server(
    session: Session, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    subject = "【要対応】期限切れのタスクが2件あります"
    body = "株式会社テストの解約ヒアリング — 3日超過\n🙇 よろしくお願いします。\n"
    enqueue(
        session,
        dedupe_key="jp",
        payload={"to": "bob@example.com", "subject": subject, "text": body},
    )
    transport = SmtpTransport(
        host="127.0.0.1", port=port, sender="banso@example.jp", starttls=False
    )
    report = deliver(session, transport)
    assert report.sent == 1
    [(mail_from, rcpt, message)] = handler.received
    assert mail_from == "banso@example.jp" and rcpt == ["bob@example.com"]
    assert str(message["Subject"]) == subject
    assert message.get_content().replace("\r\n", "\n") == body
    assert message.get_content_charset() == "utf-8"


def test_a_refused_connection_is_retried_later(session: Session) -> None:
    enqueue(
        session,
        dedupe_key="down",
        payload={"to": "bob@example.com", "subject": "件名", "text": "本文"},
    )
    transport = SmtpTransport(host="127.0.0.1", port=free_port(), starttls=False, timeout=2)
    report = deliver(session, transport)
    assert (report.sent, report.retrying) == (0, 1)


def test_it_needs_an_smtp_host() -> None:
    with pytest.raises(InvalidInput, match="BANSO_SMTP_HOST"):
        SmtpTransport.from_settings(load_settings(smtp_host=""))
    configured = SmtpTransport.from_settings(
        load_settings(smtp_host="mail.example.jp", smtp_port=2525, smtp_starttls=False)
    )
    assert (configured.host, configured.port, configured.starttls) == (
        "mail.example.jp",
        2525,
        False,
    )
