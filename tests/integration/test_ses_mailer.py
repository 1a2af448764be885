"""The SES mailer against moto's SES over HTTP: raw messages arrive as built, refusals are final."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email import message_from_string
from email.message import EmailMessage, Message

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.stub import Stubber

from bootstrap import mailer_from_settings
from devstack.processes import free_port
from devstack.services import RunningService, start_moto
from models.domain.mail import Mail, build_message, message_id
from models.ports import MailRejected, MailTransient
from settings import Settings
from workers.adapters.ses import SesMailer
from workers.adapters.smtp import SmtpMailer

SENDER = "Fulfillment <orders@fulfillment.example>"


@pytest.fixture(scope="module")
def moto() -> Iterator[RunningService]:
    """A moto server of this module's own."""
    service = start_moto()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def ses_settings(moto: RunningService) -> Settings:
    """Settings that send through moto's SES, with the sender's address verified there."""
    settings = Settings(mail_transport="ses", ses_endpoint_url=moto.url, mail_from=SENDER)
    client = boto3.client(
        "ses",
        endpoint_url=moto.url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
    )
    client.verify_email_identity(EmailAddress="orders@fulfillment.example")
    return settings


def message(sender: str = SENDER) -> EmailMessage:
    """A text and HTML message with the Message-ID derived from its order."""
    mail = Mail("Your order is on its way", "Hello Åsa,\n", "<p>Hello Åsa,</p>")
    msgid = message_id(uuid.uuid4(), "shipped", sender)
    return build_message(mail, sender=sender, recipient="asa@example.com", msgid=msgid)


def sent_to_moto(moto: RunningService, msgid: str) -> list[Message]:
    """The raw messages moto's SES accepted with the given Message-ID."""
    data = requests.get(f"{moto.url}/moto-api/data.json", timeout=5).json()
    raw = [message_from_string(m["raw_data"]) for m in data["ses"]["RawMessage"]]
    return [m for m in raw if str(m["Message-ID"]).strip() == msgid]


def test_a_message_sent_through_ses_arrives_raw_with_our_message_id(
    moto: RunningService, ses_settings: Settings
) -> None:
    outgoing = message()

    SesMailer(ses_settings).send(outgoing)

    (arrived,) = sent_to_moto(moto, outgoing["Message-ID"])
    assert arrived["Subject"] == "Your order is on its way"
    assert arrived["To"] == "asa@example.com"
    assert arrived.get_content_type() == "multipart/alternative"
    leaves = [p.get_content_type() for p in arrived.walk() if not p.is_multipart()]
    assert leaves == ["text/plain", "text/html"]


def test_a_message_from_an_unverified_sender_is_rejected_for_good(
    moto: RunningService, ses_settings: Settings
) -> None:
    outgoing = message(sender="Shop <orders@unverified.example>")

    with pytest.raises(MailRejected, match="MessageRejected"):
        SesMailer(ses_settings).send(outgoing)
    assert sent_to_moto(moto, outgoing["Message-ID"]) == []


def test_an_unreachable_ses_endpoint_is_transient() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = Settings(mail_transport="ses", ses_endpoint_url=closed)

    with pytest.raises(MailTransient):
        SesMailer(settings).send(message())


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("Throttling", 400, MailTransient),
        ("ServiceUnavailable", 503, MailTransient),
        ("InternalFailure", 500, MailTransient),
        ("MessageRejected", 400, MailRejected),
        ("MailFromDomainNotVerifiedException", 400, MailRejected),
        ("InvalidParameterValue", 400, MailRejected),
    ],
)
def test_ses_error_codes_map_to_retry_or_give_up(
    ses_settings: Settings, code: str, status: int, raised: type[Exception]
) -> None:
    client = boto3.client(
        "ses",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # One attempt: the stub answers once, and the mapping is what is under test.
        config=Config(retries={"total_max_attempts": 1}),
    )
    with Stubber(client) as stub:
        stub.add_client_error("send_raw_email", service_error_code=code, http_status_code=status)

        with pytest.raises(raised, match=code):
            SesMailer(ses_settings, client=client).send(message())


def test_the_mail_transport_setting_chooses_the_mailer(ses_settings: Settings) -> None:
    assert isinstance(mailer_from_settings(ses_settings), SesMailer)
    assert isinstance(
        mailer_from_settings(ses_settings.model_copy(update={"mail_transport": "smtp"})),
        SmtpMailer,
    )
