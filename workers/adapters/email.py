"""Sending email: the port, the SMTP adapter, and an in-memory fake."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from settings import Settings


class MailTransient(Exception):
    """The server could not take the message now; a later attempt may succeed."""


class MailRejected(Exception):
    """The server refused the message for good; retrying cannot help."""


class Mailer(Protocol):
    """Something that delivers a finished message."""

    def send(self, message: EmailMessage) -> None:
        """Deliver the message or raise MailTransient / MailRejected."""


class SmtpMailer:
    """Delivers over SMTP, with optional implicit TLS, STARTTLS and login."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.smtp_ssl:
            return smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                timeout=s.smtp_timeout,
                context=ssl.create_default_context(),
            )
        client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        if s.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        return client

    def send(self, message: EmailMessage) -> None:
        """Deliver the message; 4xx and network faults are transient, 5xx are final."""
        s = self._settings
        try:
            with self._connect() as client:
                if s.smtp_username and s.smtp_password:
                    client.login(s.smtp_username, s.smtp_password.get_secret_value())
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise (MailTransient if all(400 <= c < 500 for c in codes) else MailRejected)(
                str(exc)
            ) from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise MailTransient(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise MailRejected(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            raise MailTransient(str(exc) or type(exc).__name__) from exc


class MemoryMailer:
    """Keeps messages in a list; for unit tests of code that sends mail."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        """Remember the message."""
        self.sent.append(message)


__all__ = ["MailRejected", "MailTransient", "Mailer", "MemoryMailer", "SmtpMailer"]
