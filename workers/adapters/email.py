"""Sending email: the port, the SMTP and SES adapters, and an in-memory fake."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

SES_TIMEOUT = 10.0
# Codes SES answers when it is busy or down: the same message may go through later.
SES_TRANSIENT_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ServiceUnavailable", "InternalFailure", "RequestTimeout"}
)
# Codes that refuse this message for good: retrying cannot change the answer.
SES_REJECTED_CODES = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerified",
        "MailFromDomainNotVerifiedException",
        "InvalidParameterValue",
        "ConfigurationSetDoesNotExist",
        "AccountSendingPausedException",
    }
)


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


class SesMailer:
    """Delivers through Amazon SES as a raw message, so our headers (Message-ID) go out as built."""

    def __init__(self, settings: Settings, client: SESClient | None = None) -> None:
        self._client = client or boto3.client(
            "ses",
            endpoint_url=settings.ses_endpoint_url,
            region_name=settings.aws_region,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
            # A few quick attempts inside the call; the notify task retries across calls.
            config=Config(
                connect_timeout=SES_TIMEOUT,
                read_timeout=SES_TIMEOUT,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def send(self, message: EmailMessage) -> None:
        """Deliver the message; throttling, outages and network faults are transient."""
        try:
            # SMTP policy: CRLF line ends, as RFC 5322 and SES expect of a raw message.
            self._client.send_raw_email(RawMessage={"Data": message.as_bytes(policy=SMTP)})
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            reason = f"SES {code}: {error.get('Message', '')}"
            if code in SES_TRANSIENT_CODES or (code not in SES_REJECTED_CODES and status >= 500):
                raise MailTransient(reason) from exc
            raise MailRejected(reason) from exc
        except (BotoConnectionError, HTTPClientError) as exc:
            raise MailTransient(str(exc) or type(exc).__name__) from exc


def mailer_from_settings(settings: Settings) -> Mailer:
    """The mailer MAIL_TRANSPORT names."""
    if settings.mail_transport == "ses":
        return SesMailer(settings)
    return SmtpMailer(settings)


class MemoryMailer:
    """Keeps messages in a list; for unit tests of code that sends mail."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        """Remember the message."""
        self.sent.append(message)


__all__ = [
    "MailRejected",
    "MailTransient",
    "Mailer",
    "MemoryMailer",
    "SesMailer",
    "SmtpMailer",
    "mailer_from_settings",
]
