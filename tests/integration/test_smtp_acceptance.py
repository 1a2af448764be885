"""A mail the server accepted is delivered, whatever happens to the connection after that."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from models.ports import MailRejected, MailTransient
from settings import Settings
from tests.smtp_scripted import Log, scripted_smtp
from workers.adapters.smtp import SmtpMailer


@pytest.fixture
def vanishing(settings: Settings) -> Iterator[tuple[Settings, list[bytes]]]:
    """A mail server that accepts one message, then hangs up at whatever comes next."""
    log = Log(hang_up_after=1)
    with scripted_smtp(settings, log, timeout=1.0) as pointed:
        yield pointed, log.accepted


def test_a_server_that_vanishes_after_accepting_the_mail_does_not_make_us_send_it_again(
    vanishing: tuple[Settings, list[bytes]],
) -> None:
    settings, accepted = vanishing
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Hi"
    message.set_content("hello")

    mailer = SmtpMailer(settings)
    mailer.send(message)
    mailer.close()

    assert len(accepted) == 1


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("550 5.1.1 <ada.lovelace@example.com>: Recipient address rejected", MailRejected),
        ("451 4.3.0 ada.lovelace@example.com: try again later", MailTransient),
        ("552 5.2.2 Mailbox full for <ADA.LOVELACE@EXAMPLE.COM>", MailRejected),
    ],
)
def test_a_refusal_quoting_the_address_is_reported_without_it(
    settings: Settings, reply: str, error: type[Exception]
) -> None:
    message = EmailMessage()
    message["From"], message["Subject"] = "shop@example.com", "Hi"
    message["To"] = "ada.lovelace@example.com"
    message.set_content("hello")

    with scripted_smtp(settings, Log(rcpt_reply=reply), timeout=1.0) as pointed:
        mailer = SmtpMailer(pointed)
        with pytest.raises(error) as refused:
            mailer.send(message)
        mailer.close()

    said = str(refused.value).lower()
    assert "ada.lovelace" not in said
    assert reply[:3] in said


def test_a_server_that_is_not_there_is_a_transient_failure(settings: Settings) -> None:
    gone = settings.model_copy(update={"smtp_port": 9, "smtp_timeout": 1.0})
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Hi"
    message.set_content("hello")

    with pytest.raises(MailTransient):
        SmtpMailer(gone).send(message)
