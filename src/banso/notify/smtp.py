"""Mail through an SMTP server (smtplib), UTF-8 throughout."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from banso.errors import InvalidInput
from banso.notify.outbox import PermanentFailure
from banso.settings import Settings


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int = 587
    sender: str = "banso@localhost"
    user: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpTransport:
        if not settings.smtp_host:
            raise InvalidInput.one(
                "BANSO_SMTP_HOST", "is not set: tell banso which SMTP server sends mail"
            )
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )

    def message(self, payload: Mapping[str, Any]) -> EmailMessage:
        """The e-mail for a mail payload (to, subject, text)."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = payload["to"]
        mail["Subject"] = payload["subject"]  # encoded as RFC 2047 UTF-8 when not ASCII
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(payload["text"], charset="utf-8")
        return mail

    def send(self, channel: str, payload: Mapping[str, Any]) -> None:
        if channel != "mail":
            raise PermanentFailure(f"the SMTP transport sends mail, not {channel}")
        mail = self.message(payload)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            try:
                smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
