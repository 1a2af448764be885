"""SMTP with STARTTLS and a login, against a real TLS server with a certificate of our own CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from devstack.processes import free_port
from models.ports import MailTransient
from settings import Settings
from workers.adapters.smtp import SmtpMailer

USER, PASSWORD = "relay-user", "relay-password"


def certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key) files."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test relay CA")])
    ca = (
        _valid_for_an_hour(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        _valid_for_an_hour(server_name, ca_name, key.public_key(), now)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _valid_for_an_hour(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    """A certificate for `subject` by `issuer`, valid from a minute before `now` for an hour."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
    )


class Inbox:
    """Keeps what arrives, and who logged in to send it."""

    def __init__(self) -> None:
        self.received: list[tuple[Any, bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append((session.auth_data, envelope.original_content or b""))
        return "250 OK"


def login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, auth_data=data.login if good else None)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Inbox]]:
    """A STARTTLS-only SMTP relay that wants a login."""
    ca, cert, key = certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_require_tls=True,
        authenticator=login,
        auth_required=True,
    )
    controller.start()
    try:
        yield port, ca, inbox
    finally:
        controller.stop()


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = (
        "orders@fulfillment.example",
        "ada@example.com",
        "tls",
    )
    mail.set_content("over STARTTLS")
    return mail


def mailer(port: int, ca: Path | None, password: str = PASSWORD) -> SmtpMailer:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=True,
        smtp_username=USER,
        smtp_password=password,
        smtp_ca_file=str(ca) if ca else None,
        smtp_timeout=5,
    )
    return SmtpMailer(settings)


def test_mail_goes_over_starttls_with_a_login_to_a_relay_of_a_private_ca(
    relay: tuple[int, Path, Inbox],
) -> None:
    port, ca, inbox = relay

    mailer(port, ca).send(message())

    assert [(who, b"over STARTTLS" in body) for who, body in inbox.received[-1:]] == [
        (USER.encode(), True)
    ]


def test_a_relay_whose_certificate_cannot_be_verified_gets_no_mail(
    relay: tuple[int, Path, Inbox],
) -> None:
    port, _, inbox = relay
    before = len(inbox.received)

    with pytest.raises(MailTransient):
        mailer(port, None).send(message())

    assert len(inbox.received) == before
