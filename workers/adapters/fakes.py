"""Fakes of the ports for unit tests: each answers as the real system would, in memory."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from models.domain.tracking import tracking_url, ups_tracking_number
from models.ports import (
    ChargeResult,
    Label,
    PaymentRejected,
    PaymentUnavailable,
    Received,
    RouteNotServed,
)


@dataclass(frozen=True)
class FakeCharge:
    """A charge the fake gateway took."""

    idempotency_key: str
    payment_intent_id: str
    amount: int
    currency: str
    payment_method: str
    order_id: str


@dataclass(frozen=True)
class FakeRefund:
    """A refund the fake gateway made."""

    refund_id: str
    payment_intent_id: str
    amount: int | None


class FakeGateway:
    """In-memory gateway for unit tests: idempotent by key, declines methods named *Declined*."""

    # Every call is over when it returns: nothing lands afterwards.
    longest_call_seconds = 0.0

    def __init__(self, *, unavailable_times: int = 0) -> None:
        self.unavailable_times = unavailable_times
        self.calls = 0
        self.charges: list[FakeCharge] = []
        self.refunds: dict[str, FakeRefund] = {}
        self._results: dict[str, ChargeResult] = {}
        self._by_order: dict[str, list[ChargeResult]] = {}
        self._lock = threading.Lock()

    def fail_next(self, times: int) -> None:
        """Make the next `times` calls raise PaymentUnavailable, as after a timeout."""
        with self._lock:
            self.unavailable_times = times

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: int,
        currency: str,
        payment_method: str,
        order_id: str,
    ) -> ChargeResult:
        """Record one charge per key and return the same result for every repeat."""
        with self._lock:
            self._count_call()
            if idempotency_key not in self._results:
                intent_id = _fake_id("pi")
                charge = FakeCharge(
                    idempotency_key, intent_id, amount, currency, payment_method, order_id
                )
                result = self._decide(charge)
                self._results[idempotency_key] = result
                self._by_order.setdefault(order_id, []).append(result)
            return self._results[idempotency_key]

    def find_charge(self, *, order_id: str) -> ChargeResult | None:
        """The order's success, else its newest decline, else None: as a search would answer."""
        with self._lock:
            self._count_call()
            results = self._by_order.get(order_id, [])
        succeeded = next((result for result in results if result.status == "succeeded"), None)
        return succeeded or (results[-1] if results else None)

    def cancel(self, *, payment_intent_id: str, order_id: str) -> ChargeResult:
        """Cancel an intent that took no money; one that did answers as the success it is."""
        with self._lock:
            self._count_call()
            for result in self._by_order.get(order_id, []):
                if result.gateway_id == payment_intent_id and result.status == "succeeded":
                    return result
        return ChargeResult("declined", payment_intent_id, "canceled", "The payment was cancelled.")

    def refund(
        self,
        *,
        idempotency_key: str,
        payment_intent_id: str,
        amount: int | None = None,
        order_id: str | None = None,
    ) -> str:
        """Record one refund per key; returns its id."""
        with self._lock:
            self._count_call()
            if not any(c.payment_intent_id == payment_intent_id for c in self.charges):
                raise PaymentRejected(f"No such payment_intent: '{payment_intent_id}'")
            if idempotency_key not in self.refunds:
                refund = FakeRefund(_fake_id("re"), payment_intent_id, amount)
                self.refunds[idempotency_key] = refund
            return self.refunds[idempotency_key].refund_id

    def _count_call(self) -> None:
        self.calls += 1
        if self.unavailable_times > 0:
            self.unavailable_times -= 1
            raise PaymentUnavailable("the fake gateway was told to be unavailable")

    def _decide(self, charge: FakeCharge) -> ChargeResult:
        method = charge.payment_method
        if "Declined" not in method:
            self.charges.append(charge)
            return ChargeResult("succeeded", charge.payment_intent_id)
        code = next((c for name, c in FAKE_DECLINES.items() if method.endswith(name)), None)
        message = "Your card was declined."
        return ChargeResult(
            "declined", charge.payment_intent_id, code or "generic_decline", message
        )


# The decline codes the sandbox gives Stripe's test payment methods of the same names.
FAKE_DECLINES = {"InsufficientFunds": "insufficient_funds", "ProcessingError": "processing_error"}


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
