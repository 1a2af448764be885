"""A mail the server accepted is delivered, whatever happens to the connection after that."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from models.ports import MailTransient
from settings import Settings
from workers.adapters.smtp import SmtpMailer


class Vanishing(socketserver.StreamRequestHandler):
    """A mail server that accepts the message, then never answers QUIT (it went away)."""

    accepted: list[bytes]
    gone: threading.Event

    def _say(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self._say("220 test ESMTP")
        while line := self.rfile.readline():
            verb = line.decode().strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                self._say("250 test")
            elif verb.startswith(("MAIL", "RCPT")):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 go on")
                body = b"".join(iter(self.rfile.readline, b".\r\n"))
                type(self).accepted.append(body)
                self._say("250 accepted")
            elif verb == "QUIT":
                type(self).gone.wait(5)  # no answer: the client's read times out
                return
            else:
                self._say("502 not here")


@pytest.fixture
def vanishing(settings: Settings) -> Iterator[tuple[Settings, list[bytes]]]:
    accepted: list[bytes] = []
    gone = threading.Event()
    handler = type("Handler", (Vanishing,), {"accepted": accepted, "gone": gone})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield settings.model_copy(update={"smtp_port": port, "smtp_timeout": 1.0}), accepted
    finally:
        gone.set()
        server.shutdown()
        server.server_close()


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
