"""The mail port over SMTP: implicit TLS or STARTTLS, verified, with an optional login."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from models.ports import MailRejected, MailTransient
from settings import Settings


class SmtpMailer:
    """Delivers over SMTP, with optional implicit TLS, STARTTLS and login."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _tls(self) -> ssl.SSLContext:
        # Always verified; a private CA (a company relay) is trusted through SMTP_CA_FILE.
        return ssl.create_default_context(cafile=self._settings.smtp_ca_file)

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.smtp_ssl:
            return smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=self._tls()
            )
        client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        if s.smtp_starttls:
            client.starttls(context=self._tls())
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
