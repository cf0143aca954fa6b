"""E-mail over SMTP (plain SMTP to a relay; STARTTLS and login when configured)."""

from __future__ import annotations

import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from nameko.extensions import DependencyProvider

from services.notification.templates import Rendered

SMTP_TIMEOUT_SECONDS = 10


class Mailer(DependencyProvider):
    def setup(self) -> None:
        config = self.container.config
        self.host = config.get("SMTP_HOST", "localhost")
        self.port = int(config.get("SMTP_PORT", 1025))
        self.sender = config.get("MAIL_FROM", "mynacar@example.jp")
        self.starttls = str(config.get("SMTP_STARTTLS", "false")).lower() == "true"
        self.username = config.get("SMTP_USERNAME") or ""
        self.password = config.get("SMTP_PASSWORD") or ""

    def get_dependency(self, worker_ctx: Any) -> Mailer:
        return self

    def send(self, to: str, message: Rendered, message_id: str) -> None:
        mail = EmailMessage()
        mail["From"] = Address("マイナちゃんカー", addr_spec=self.sender)
        mail["To"] = to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=True)
        # A stable id per message lets a mail system drop a duplicate after a crash.
        mail["Message-ID"] = f"<{message_id}@mynacar>"
        mail.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(mail)
