"""The local SMTP sink: aiosmtpd filing each message it accepts into a Maildir, as it came.

aiosmtpd's own Mailbox handler parses every message into an `email` object, writes it out
again through a generator and fsyncs the file and its folder: most of the 3 ms of CPU the
sink spent a mail, a tenth of an order's CPU under `make run`. This handler writes the
bytes it received, with the same three envelope headers (X-Peer, X-MailFrom, X-RcptTo),
into `tmp/` and renames them into `new/`, as the Maildir format asks. A message is on
disk before the sink answers 250; it is not fsynced, so a crash of the machine (not of
the sink) may lose the last ones, which no local run needs to survive.

`python -m devstack.smtp_sink HOST:PORT MAILDIR`
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from argparse import ArgumentParser
from pathlib import Path

from aiosmtpd.main import main as aiosmtpd_main
from aiosmtpd.smtp import SMTP, Envelope, Session


def create_maildir(maildir: Path) -> None:
    """Create a Maildir (cur, new, tmp) with default permissions, if it is not there yet."""
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)


class RawMaildir:
    """An aiosmtpd handler filing each message's bytes into the Maildir `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        create_maildir(folder)
        self._host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
        self._counter = itertools.count()

    @classmethod
    def from_cli(cls, parser: ArgumentParser, *args: str) -> RawMaildir:
        """aiosmtpd's `-c devstack.smtp_sink.RawMaildir MAILDIR`."""
        if len(args) != 1:
            parser.error("the Maildir's path, and nothing else, follows the handler")
        return cls(Path(args[0]))

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """File the message; 250 once it is in new/."""
        self.file(envelope_headers(session, envelope) + as_bytes(envelope.content))
        return "250 OK"

    def file(self, message: bytes) -> Path:
        """Write `message` (LF line ends, as Maildir readers expect) into new/; its path."""
        name = f"{time.time():.6f}.P{os.getpid()}Q{next(self._counter)}.{self._host}"
        draft = self.folder / "tmp" / name
        draft.write_bytes(message.replace(b"\r\n", b"\n"))
        return draft.rename(self.folder / "new" / name)


def envelope_headers(session: Session, envelope: Envelope) -> bytes:
    """The headers aiosmtpd's Mailbox handler adds: who connected, from whom, to whom."""
    peer = str(session.peer)
    recipients = ", ".join(envelope.rcpt_tos)
    text = f"X-Peer: {peer}\nX-MailFrom: {envelope.mail_from}\nX-RcptTo: {recipients}\n"
    return text.encode("utf-8", "surrogateescape")


def as_bytes(content: bytes | bytearray | str | None) -> bytes:
    """The DATA as received (aiosmtpd hands over str only when told to decode it)."""
    if content is None:
        return b""
    if isinstance(content, str):
        return content.encode("utf-8", "surrogateescape")
    return bytes(content)


def main(argv: list[str] | None = None) -> None:
    """aiosmtpd on HOST:PORT in the foreground, filing into MAILDIR."""
    parser = ArgumentParser(prog="python -m devstack.smtp_sink", description=__doc__)
    parser.add_argument("listen", metavar="HOST:PORT")
    parser.add_argument("maildir", metavar="MAILDIR")
    args = parser.parse_args(argv)
    aiosmtpd_main(["-n", "-l", args.listen, "-c", "devstack.smtp_sink.RawMaildir", args.maildir])


if __name__ == "__main__":
    main()
