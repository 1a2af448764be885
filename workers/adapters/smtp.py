"""The mail port over SMTP: implicit TLS or STARTTLS, verified, with an optional login."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

from models.domain.mail import without_addresses
from models.ports import MailRejected, MailTransient
from settings import Settings


# One connection carries many mails: a TLS handshake and a login per connection, not per mail.
# It is given up after this many mails or this long idle, before a server's own limits bite.
def _reply(code: int, text: bytes | str) -> str:
    """A server's reply as a reason to log and store: without the addresses it may quote."""
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return without_addresses(f"{code} {said}")


MAILS_PER_CONNECTION = 100
IDLE_SECONDS = 30.0
READY = 250


@dataclass
class _Held:
    client: smtplib.SMTP
    sent: int = 0
    last_used: float = field(default_factory=time.monotonic)


class SmtpMailer:
    """Delivers over SMTP, with optional implicit TLS, STARTTLS and login.

    Each thread keeps its connection open for the next mail, and checks it with an RSET
    before using it again: one the server has meanwhile closed is replaced before any of
    the mail is sent. A failure while sending drops the connection and is the caller's to
    retry, as it was with a connection per mail.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._local = threading.local()
        # A forked child must not write to its parent's socket: it opens its own.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._local = threading.local()

    def _tls(self) -> ssl.SSLContext:
        # Always verified; a private CA (a company relay) is trusted through SMTP_CA_FILE.
        return ssl.create_default_context(cafile=self._settings.smtp_ca_file)

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.smtp_ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=self._tls()
            )
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            if s.smtp_starttls and not s.smtp_ssl:
                client.starttls(context=self._tls())
            if s.smtp_username and s.smtp_password:
                client.login(s.smtp_username, s.smtp_password.get_secret_value())
        except BaseException:
            client.close()  # a refused TLS or login must not leave the socket open
            raise
        return client

    def _held(self) -> _Held | None:
        """This thread's kept connection, if it is still fit and the server still answers.

        The check is an RSET: should the server have dropped the connection while it was idle,
        that fails, and nothing of the mail has been sent yet. Once the mail itself is under
        way, any failure is the caller's (the server may have accepted it before failing).
        """
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            return None
        fresh = time.monotonic() - held.last_used < IDLE_SECONDS
        if held.sent < MAILS_PER_CONNECTION and fresh and self._answers(held.client):
            return held
        self.close()
        return None

    @staticmethod
    def _answers(client: smtplib.SMTP) -> bool:
        try:
            code, _ = client.rset()
        except (smtplib.SMTPException, OSError):
            return False
        return code == READY

    def close(self) -> None:
        """Hang up this thread's kept connection, if any."""
        held: _Held | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                held.client.close()

    def _deliver(self, message: EmailMessage) -> None:
        held = self._held()
        if held is None:
            held = _Held(self._connect())
            self._local.held = held
        held.client.send_message(message)
        held.sent += 1
        held.last_used = time.monotonic()

    def send(self, message: EmailMessage) -> None:
        """Deliver the message; 4xx and network faults are transient, 5xx are final."""
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            replies = list(exc.recipients.values())
            reason = "; ".join(_reply(code, text) for code, text in replies)
            transient = all(400 <= code < 500 for code, _ in replies)
            raise (MailTransient if transient else MailRejected)(reason) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            reason = _reply(exc.smtp_code, exc.smtp_error)
            if 400 <= exc.smtp_code < 500:
                raise MailTransient(reason) from exc
            raise MailRejected(reason) from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            self.close()
            raise MailTransient(without_addresses(str(exc)) or type(exc).__name__) from exc
