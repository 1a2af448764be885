"""Fakes of the ports for unit tests: each answers as the real system would, in memory."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from models.domain.tracking import tracking_url, ups_tracking_number
from models.ports import Label, Received, RouteNotServed
from workers.adapters.fake_payments import FakeCapture, FakeCharge, FakeGateway, FakeRefund

# The payment fakes live in fake_payments; tests import them from here as from the others.
__all__ = [
    "FakeCapture",
    "FakeCarrier",
    "FakeCharge",
    "FakeGateway",
    "FakeMailer",
    "FakeQueue",
    "FakeRefund",
]


def _fake_id(prefix: str) -> str:
    return f"{prefix}_fake_{secrets.token_hex(8)}"


class FakeMailer:
    """Keeps the messages it is given, as a mail server that accepts everything."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        """Remember the message."""
        self.sent.append(message)


class FakeQueue:
    """The orders queue in memory: a message is hidden once received until deleted."""

    def __init__(self) -> None:
        self.visible: list[Received] = []
        self.taken: dict[str, Received] = {}
        self.dead: list[tuple[Received, str]] = []
        self._lock = threading.Lock()

    def publish(self, document: dict[str, Any]) -> str:
        """Keep the document; its message id."""
        message_id = _fake_id("msg")
        received = Received(message_id, _fake_id("rh"), json.dumps(document), 1)
        with self._lock:
            self.visible.append(received)
        return message_id

    def publish_batch(self, documents: Sequence[dict[str, Any]]) -> list[str | None]:
        """Keep each document; their message ids."""
        return [self.publish(document) for document in documents]

    def receive(self, *, wait_seconds: int, visibility_timeout: int) -> list[Received]:
        """Up to ten visible messages, hidden from the next receive until deleted."""
        with self._lock:
            batch, self.visible = self.visible[:10], self.visible[10:]
            self.taken |= {m.receipt_handle: m for m in batch}
        return batch

    def delete(self, messages: list[Received]) -> list[str]:
        """Forget taken messages; the ids of those that were not taken."""
        with self._lock:
            return [
                m.message_id for m in messages if self.taken.pop(m.receipt_handle, None) is None
            ]

    def dead_letter(self, message: Received, reason: str) -> None:
        """Move a taken message to the dead letters, with the reason."""
        with self._lock:
            self.taken.pop(message.receipt_handle, None)
            self.dead.append((message, reason))

    def depth(self, which: str = "main") -> int:
        """Visible messages in the queue, or dead letters."""
        with self._lock:
            return len(self.dead) if which == "dlq" else len(self.visible)


class FakeCarrier:
    """A carrier that books every parcel with a valid UPS number, unless told a route is closed."""

    def __init__(self, *, closed: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.closed = closed
        self.booked: list[Label] = []

    def __call__(self, *, origin_country: str, destination_country: str) -> FakeCarrier:
        """The carrier for a route, as `choose_carrier` answers; a closed route is refused."""
        if (origin_country, destination_country) in self.closed:
            raise RouteNotServed(f"no carrier from {origin_country} to {destination_country}")
        return self

    def create_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """Book a parcel; its label."""
        number = ups_tracking_number("FAKE01", "03", secrets.randbelow(10**7))
        label = Label("ups", number, tracking_url("ups", number))
        self.booked.append(label)
        return label

    def create_return_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """Book a parcel back to the warehouse; its label."""
        return self.create_label(order_id=order_id, warehouse_code=warehouse_code)
