"""One SMTP connection carries many mails, and a connection the server dropped costs no mail."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest

from models.ports import MailTransient
from settings import Settings
from workers.adapters.smtp import MAILS_PER_CONNECTION, SmtpMailer


@dataclass
class Log:
    """What the scripted server saw, and how it should behave."""

    connections: int = 0
    accepted: list[bytes] = field(default_factory=list)
    # After this many mails on one connection, hang up at the next command (or answer
    # `closing`, a 421 say, first).
    hang_up_after: int | None = None
    closing: str | None = None
    silent_after_body: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Scripted(socketserver.StreamRequestHandler):
    """A mail server that counts connections and can hang up on the next command."""

    log: Log

    def _say(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        log = type(self).log
        with log.lock:
            log.connections += 1
        self._say("220 test ESMTP")
        mails = 0
        while line := self.rfile.readline():
            verb = line.decode().strip().upper()
            if log.hang_up_after is not None and mails >= log.hang_up_after:
                if log.closing:
                    self._say(log.closing)
                return
            if verb.startswith(("EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP")):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 go on")
                body = b"".join(iter(self.rfile.readline, b".\r\n"))
                with log.lock:
                    log.accepted.append(body)
                mails += 1
                if log.silent_after_body:
                    return  # took the mail, never said so: the client cannot know
                self._say("250 accepted")
            elif verb == "QUIT":
                self._say("221 bye")
                return


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[Settings, Log]]:
    log = Log()
    handler = type("Handler", (Scripted,), {"log": log})
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    tcp.daemon_threads = True
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    changed: dict[str, object] = {"smtp_port": tcp.server_address[1], "smtp_timeout": 2.0}
    changed |= {"smtp_starttls": False, "smtp_ssl": False, "smtp_username": None}
    try:
        yield settings.model_copy(update=changed), log
    finally:
        tcp.shutdown()
        tcp.server_close()


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
