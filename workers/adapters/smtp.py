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

from models.ports import MailRejected, MailTransient
from settings import Settings

# One connection carries many mails: a TLS handshake and a login per connection, not per mail.
# It is given up after this many mails or this long idle, before a server's own limits bite.
MAILS_PER_CONNECTION = 100
IDLE_SECONDS = 30.0
# "Service not available, closing transmission channel": about this connection, not the mail.
CLOSING = 421


@dataclass
class _Held:
    client: smtplib.SMTP
    sent: int = 0
    last_used: float = field(default_factory=time.monotonic)


class SmtpMailer:
    """Delivers over SMTP, with optional implicit TLS, STARTTLS and login.

    Each thread keeps its connection open for the next mail. A kept connection the server
    has meanwhile closed fails before the server accepted anything, so that one mail is sent
    again once on a new connection; any other failure drops the connection.
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
            if s.smtp_starttls:
                client.starttls(context=self._tls())
        if s.smtp_username and s.smtp_password:
            client.login(s.smtp_username, s.smtp_password.get_secret_value())
        return client

    def _held(self) -> _Held | None:
        held: _Held | None = getattr(self._local, "held", None)
        if held is None:
            return None
        if held.sent < MAILS_PER_CONNECTION and time.monotonic() - held.last_used < IDLE_SECONDS:
            return held
        self.close()
        return None

    def close(self) -> None:
        """Hang up this thread's kept connection, if any."""
        held: _Held | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                held.client.close()

    def _deliver(self, message: EmailMessage) -> None:
        held = self._held()
        if held is not None:
            try:
                held.client.send_message(message)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self.close()  # closed while idle: nothing was accepted, so send it afresh
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code != CLOSING:
                    raise
                self.close()  # the server is closing this connection: so, afresh
            else:
                held.sent += 1
                held.last_used = time.monotonic()
                return
        client = self._connect()
        self._local.held = _Held(client)
        client.send_message(message)
        self._local.held.sent = 1

    def send(self, message: EmailMessage) -> None:
        """Deliver the message; 4xx and network faults are transient, 5xx are final."""
        try:
            self._deliver(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            raise (MailTransient if all(400 <= c < 500 for c in codes) else MailRejected)(
                str(exc)
            ) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            if 400 <= exc.smtp_code < 500:
                raise MailTransient(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise MailRejected(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            self.close()
            raise MailTransient(str(exc) or type(exc).__name__) from exc
