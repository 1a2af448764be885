"""A mail the server accepted is delivered, whatever happens to the connection after that."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from models.ports import MailTransient
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


def test_a_server_that_is_not_there_is_a_transient_failure(settings: Settings) -> None:
    gone = settings.model_copy(update={"smtp_port": 9, "smtp_timeout": 1.0})
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Hi"
    message.set_content("hello")

    with pytest.raises(MailTransient):
        SmtpMailer(gone).send(message)
