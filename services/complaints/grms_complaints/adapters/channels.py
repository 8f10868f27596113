"""Channel adapters that carry notifications to complainants: the local log (default) and e-mail over SMTP.

The log adapter delivers into the notification table itself (the row marked sent "via log"),
which the complainant's tracking page lists. The SMTP adapter sends with smtplib — a
blocking library, so the dispatcher calls it in a worker thread — when
`GRMS_COMPLAINTS_SMTP_HOST` and `GRMS_COMPLAINTS_SMTP_SENDER` are set.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from grms_complaints.domain.notifications import NotificationKind, OutboundNotification

__all__ = ["LOG", "SmtpAdapter", "SmtpConfig"]

#: The name under which the log adapter records deliveries.
LOG = "log"

_SUBJECTS = {
    NotificationKind.REPLY: "Tanggapan atas pengaduan Anda",
    NotificationKind.RESOLVED: "Pengaduan Anda telah selesai",
    NotificationKind.REJECTED: "Pengaduan Anda tidak dapat diproses",
}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0


class SmtpAdapter:
    """Sends a notification as a plain-text e-mail; raises on any failure (the dispatcher retries)."""

    name = "smtp"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def message(self, notification: OutboundNotification, to: str) -> EmailMessage:
        """The e-mail for `notification` to `to`."""
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = to
        msg["Subject"] = f"[LaporGub] {_SUBJECTS[notification.kind]} ({notification.ticket_id})"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(
            f"{notification.text}\n\n"
            f"Lacak pengaduan Anda dengan nomor tiket {notification.ticket_id} dan PIN Anda di halaman"
            " /pengaduan/lacak. Jangan membalas surel ini.\n"
        )
        return msg

    def send(self, notification: OutboundNotification, to: str) -> None:
        """Deliver over SMTP (blocking: call it in a thread)."""
        c = self.config
        with smtplib.SMTP(c.host, c.port, timeout=c.timeout) as smtp:
            if c.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if c.username:
                smtp.login(c.username, c.password)
            smtp.send_message(self.message(notification, to))
