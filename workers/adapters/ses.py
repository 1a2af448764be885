"""The mail port over Amazon SES: raw messages, so our headers (the Message-ID) go out as built."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from models.domain.mail import without_addresses
from models.ports import MailRejected, MailTransient
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
            reason = without_addresses(f"SES {code}: {error.get('Message', '')}")
            if code in SES_TRANSIENT_CODES or (code not in SES_REJECTED_CODES and status >= 500):
                raise MailTransient(reason) from exc
            raise MailRejected(reason) from exc
        except (BotoConnectionError, HTTPClientError) as exc:
            raise MailTransient(without_addresses(str(exc)) or type(exc).__name__) from exc
