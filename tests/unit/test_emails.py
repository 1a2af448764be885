"""Customer emails: a stable Message-ID per order and kind, and a complete message."""

from __future__ import annotations

import uuid
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import parsedate_to_datetime

import pytest

from models.domain.mail import KINDS, Mail, build_message, message_id, without_addresses

ORDER = uuid.UUID("0b9c1c7e-2d4f-4b8a-9a61-3f5e7d9c1a2b")
SENDER = "Fulfillment <orders@shop.example>"


def test_the_message_id_is_derived_from_kind_order_and_the_senders_domain() -> None:
    assert message_id(ORDER, "shipped", SENDER) == f"<shipped.{ORDER}@shop.example>"


def test_the_same_order_and_kind_always_get_the_same_message_id() -> None:
    assert message_id(ORDER, "received", SENDER) == message_id(ORDER, "received", SENDER)


def test_a_resend_is_recognisable_whatever_display_name_the_sender_uses() -> None:
    assert message_id(ORDER, "received", "orders@shop.example") == message_id(
        ORDER, "received", "Shop Orders <orders@shop.example>"
    )


def test_each_kind_and_each_order_gets_its_own_message_id() -> None:
    ids = {message_id(ORDER, kind, SENDER) for kind in KINDS}
    ids.add(message_id(uuid.UUID(int=1), "received", SENDER))
    assert len(ids) == len(KINDS) + 1


@pytest.mark.parametrize("sender", ["", "Fulfillment <>", "orders@"])
def test_a_sender_without_a_domain_falls_back_to_a_local_one(sender: str) -> None:
    assert message_id(ORDER, "received", sender) == f"<received.{ORDER}@fulfillment.local>"


def test_a_bare_local_part_sender_also_falls_back_to_the_local_domain() -> None:
    assert message_id(ORDER, "received", "orders") == f"<received.{ORDER}@fulfillment.local>"


def test_a_built_message_carries_every_header_and_the_given_message_id() -> None:
    msgid = message_id(ORDER, "shipped", SENDER)
    mail = Mail(subject="Your order 0b9c1c7e is on its way", text="Hello Ada,\n\nIt shipped.\n")
    message = build_message(mail, sender=SENDER, recipient="ada@example.com", msgid=msgid)
    assert message["From"] == SENDER
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == mail.subject
    assert message["Message-ID"] == msgid
    assert parsedate_to_datetime(message["Date"]).utcoffset() == timedelta(0)
    assert message.get_content() == mail.text


def test_a_non_ascii_subject_and_body_survive_encoding() -> None:
    mail = Mail(subject="Din order är på väg", text="Hej Åsa,\n")
    message = build_message(
        mail, sender=SENDER, recipient="asa@example.se", msgid=f"<shipped.{ORDER}@shop.example>"
    )
    sent = message.as_bytes()
    headers = sent.partition(b"\n\n")[0]
    assert headers.isascii()  # the subject went out as an encoded word
    received = message_from_bytes(sent, policy=default)
    assert isinstance(received, EmailMessage)
    assert received["Subject"] == mail.subject
    assert received.get_content() == mail.text


def test_addresses_are_taken_out_of_a_server_reply_and_nothing_else() -> None:
    reply = "550 5.1.1 <ada+orders@mail.example.co.uk>: unknown; also 'B.Smith@EXAMPLE.org'"

    said = without_addresses(reply)

    assert said == "550 5.1.1 <[address]>: unknown; also '[address]'"
    assert without_addresses("451 4.7.1 try again at 12:30") == "451 4.7.1 try again at 12:30"


def test_a_built_message_is_byte_for_byte_what_the_standard_policy_builds() -> None:
    mail = Mail(subject="Din order är på väg", text="Hej Åsa,\n" * 40, html="<p>Hej Åsa</p>\n")
    msgid = message_id(ORDER, "shipped", SENDER)
    built = build_message(mail, sender=SENDER, recipient="asa@example.se", msgid=msgid)
    standard = EmailMessage(policy=default)
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        standard[name] = str(built[name])
    standard.set_content(mail.text)
    standard.add_alternative(mail.html, subtype="html")
    for message in (built, standard):
        message.set_boundary("==part==")  # chosen at random otherwise

    assert built.as_bytes(policy=SMTP) == standard.as_bytes(policy=SMTP)
