"""Fakes of the ports for unit tests: each answers as the real system would, in memory."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from models.ports import ChargeResult, PaymentRejected, PaymentUnavailable


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
