"""One SMTP connection carries many mails, and a connection the server dropped costs no mail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from models.ports import MailTransient
from settings import Settings
from tests.smtp_scripted import Log, scripted_smtp
from workers.adapters.smtp import MAILS_PER_CONNECTION, SmtpMailer


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[Settings, Log]]:
    log = Log()
    with scripted_smtp(settings, log, timeout=2.0) as pointed:
        yield pointed, log


def mail(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", f"#{n}"
    message.set_content(f"mail {n}")
    return message


def test_mails_in_a_row_share_one_connection(server: tuple[Settings, Log]) -> None:
    settings, log = server
    mailer = SmtpMailer(settings)

    for n in range(5):
        mailer.send(mail(n))

    assert (log.connections, len(log.accepted)) == (1, 5)
    mailer.close()


def test_a_connection_is_given_up_after_its_share_of_mails(server: tuple[Settings, Log]) -> None:
    settings, log = server
    mailer = SmtpMailer(settings)

    for n in range(MAILS_PER_CONNECTION + 1):
        mailer.send(mail(n))

    assert (log.connections, len(log.accepted)) == (2, MAILS_PER_CONNECTION + 1)
    mailer.close()


@pytest.mark.parametrize("closing", [None, "421 closing idle connection"])
def test_a_connection_the_server_dropped_is_replaced_and_the_mail_sent_once(
    server: tuple[Settings, Log], closing: str | None
) -> None:
    settings, log = server
    log.hang_up_after, log.closing = 1, closing
    mailer = SmtpMailer(settings)

    mailer.send(mail(1))
    mailer.send(mail(2))  # the kept connection is gone: the mail goes on a new one

    assert log.connections == 2
    assert [b"mail 2" in body for body in log.accepted] == [False, True]
    mailer.close()


def test_a_mail_the_server_may_have_taken_is_not_sent_again_on_the_spot(
    server: tuple[Settings, Log],
) -> None:
    settings, log = server
    mailer = SmtpMailer(settings)
    mailer.send(mail(1))
    log.silent_after_body = True

    # The body went out on the kept connection and no answer came: the claim's retry decides.
    with pytest.raises(MailTransient):
        mailer.send(mail(2))

    assert [b"mail 2" in body for body in log.accepted] == [False, True]
    mailer.close()


def test_each_thread_has_its_own_connection(server: tuple[Settings, Log]) -> None:
    settings, log = server
    mailer = SmtpMailer(settings)
    threads = [threading.Thread(target=mailer.send, args=(mail(n),)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (log.connections, len(log.accepted)) == (3, 3)
