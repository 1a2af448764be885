"""A scripted SMTP server for the mailer's tests: counts connections, hangs up on cue."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from settings import Settings


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
    # Answer every RCPT with this line (a refusal quoting the address, say).
    rcpt_reply: str | None = None
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
            if verb.startswith("RCPT") and log.rcpt_reply:
                self._say(log.rcpt_reply)
            elif verb.startswith(("EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP")):
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


@contextlib.contextmanager
def scripted_smtp(settings: Settings, log: Log, timeout: float) -> Iterator[Settings]:
    """The server on a free port, behaving as `log` says; `settings` pointed at it."""
    handler = type("Handler", (Scripted,), {"log": log})
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    tcp.daemon_threads = True
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    changed: dict[str, object] = {"smtp_port": tcp.server_address[1], "smtp_timeout": timeout}
    changed |= {"smtp_starttls": False, "smtp_ssl": False, "smtp_username": None}
    try:
        yield settings.model_copy(update=changed)
    finally:
        tcp.shutdown()
        tcp.server_close()
