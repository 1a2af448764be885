"""An SMTP server in this process that keeps every message it accepts and can be switched off."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    """What the scorecard needs of one accepted message."""

    message_id: str
    subject: str
    recipients: tuple[str, ...]
    at: float


class MailSink:
    """The mail server the system sends to; stop() makes it unreachable until start()."""

    def __init__(self, port: int) -> None:
        """A server for 127.0.0.1:`port`, not yet listening."""
        self.port = port
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the message; answering 250 is what makes the sender count it as sent."""
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        mail = ReceivedMail(
            message_id=str(message.get("Message-ID", "")).strip(),
            subject=str(message.get("Subject", "")),
            recipients=tuple(str(r) for r in envelope.rcpt_tos),
            at=time.monotonic(),
        )
        with self._lock:
            self._mails.append(mail)
        return "250 OK"

    def start(self) -> None:
        """Listen (again) on the same port."""
        if self._controller is None:
            controller = Controller(self, hostname=HOST, port=self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        """Stop listening; senders get connection refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mails(self) -> list[ReceivedMail]:
        """Every message accepted so far, in order of arrival."""
        with self._lock:
            return list(self._mails)

    def count(self) -> int:
        """How many messages were accepted so far."""
        with self._lock:
            return len(self._mails)
