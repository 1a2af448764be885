"""Read the local mail sink: `python -m devstack.mailbox [--maildir PATH] [--show N]`."""

from __future__ import annotations

import argparse
import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from devstack.datadir import data_dir
from settings import get_settings


@dataclass(frozen=True)
class Mail:
    """One received message, with what a listing shows."""

    number: int
    date: datetime
    to: str
    subject: str
    message: EmailMessage


def read_mails(maildir: Path) -> list[Mail]:
    """Every message in the Maildir, in order of arrival, numbered from 1."""
    if not (maildir / "new").is_dir():
        return []
    box = mailbox.Maildir(maildir, create=False)
    arrived = sorted((box.get_message(key).get_date(), key) for key in box.iterkeys())
    return [
        _mail(number, datetime.fromtimestamp(when, UTC), box.get_bytes(key))
        for number, (when, key) in enumerate(arrived, start=1)
    ]


def text_of(message: EmailMessage) -> str:
    """The message's plain-text body, or its HTML one when it has no plain text."""
    body = message.get_body(preferencelist=("plain", "html"))
    return "" if body is None else str(body.get_content())


def _mail(number: int, arrived: datetime, raw: bytes) -> Mail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not isinstance(message, EmailMessage):
        raise TypeError("the default policy parses into EmailMessage")
    return Mail(
        number, arrived, str(message.get("To", "")), str(message.get("Subject", "")), message
    )


def format_table(mails: list[Mail]) -> str:
    """A plain-text table: number, date, to, subject."""
    rows = [("#", "date (UTC)", "to", "subject")]
    rows += [
        (str(mail.number), f"{mail.date:%Y-%m-%d %H:%M:%S}", mail.to, mail.subject)
        for mail in mails
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]])
        for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    """List the mails, or print one of them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maildir", type=Path, help="default: the mail in DEVSTACK_DATA_DIR")
    parser.add_argument("--show", type=int, metavar="N", help="print mail N's text")
    args = parser.parse_args(argv)
    args.maildir = args.maildir or data_dir(get_settings()).mail
    mails = read_mails(args.maildir)
    if args.show is None:
        print(format_table(mails) if mails else f"No mail in {args.maildir}")
        return 0
    chosen = [mail for mail in mails if mail.number == args.show]
    if not chosen:
        print(f"No mail number {args.show}: there are {len(mails)} in {args.maildir}")
        return 1
    mail = chosen[0]
    print(f"Date: {mail.date:%Y-%m-%d %H:%M:%S} UTC\nTo: {mail.to}\nSubject: {mail.subject}\n")
    print(text_of(mail.message))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
