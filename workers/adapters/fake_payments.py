"""The payment port's fake for unit tests: Stripe's semantics in memory, authorise-then-capture
included (an authorisation is not money taken; only a capture of it is)."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from models.ports import (
    AUTHORIZATION_EXPIRED,
    CANCELED,
    CaptureMethod,
    ChargeResult,
    PaymentRejected,
    PaymentUnavailable,
)

# How long an authorisation holds before it lapses, as Stripe's default.
AUTHORIZATION_SECONDS = 7 * 24 * 3600.0
# The decline codes the sandbox gives Stripe's test payment methods of the same names.
FAKE_DECLINES = {"InsufficientFunds": "insufficient_funds", "ProcessingError": "processing_error"}
# The order find_charge prefers results in, as a search of Stripe's intents is read.
RANK = ("succeeded", "authorized", "pending")


@dataclass(frozen=True)
class FakeCharge:
    """Money the fake gateway took: a charge, or the capture of an authorisation."""

    idempotency_key: str
    payment_intent_id: str
    amount: int
    currency: str
    payment_method: str
    order_id: str


@dataclass(frozen=True)
class FakeCapture:
    """A capture the fake gateway made of an authorisation."""

    idempotency_key: str
    payment_intent_id: str
    amount: int


@dataclass(frozen=True)
class FakeRefund:
    """A refund the fake gateway made."""

    refund_id: str
    payment_intent_id: str
    amount: int | None


def _fake_id(prefix: str) -> str:
    return f"{prefix}_fake_{secrets.token_hex(8)}"


class FakeGateway:
    """In-memory gateway for unit tests: idempotent by key, declines methods named *Declined*."""

    # Every call is over when it returns: nothing lands afterwards.
    longest_call_seconds = 0.0

    def __init__(
        self, *, unavailable_times: int = 0, authorization_seconds: float = AUTHORIZATION_SECONDS
    ) -> None:
        self.unavailable_times = unavailable_times
        self.authorization_seconds = authorization_seconds
        self.calls = 0
        self.charges: list[FakeCharge] = []
        self.captures: dict[str, FakeCapture] = {}
        self.refunds: dict[str, FakeRefund] = {}
        self._results: dict[str, ChargeResult] = {}
        # Each intent as it stands now, and what it may still capture, by intent id.
        self._now: dict[str, ChargeResult] = {}
        self._held: dict[str, FakeCharge] = {}
        self._by_order: dict[str, list[str]] = {}
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
        capture: CaptureMethod = "automatic",
    ) -> ChargeResult:
        """Record one charge (or authorisation) per key; every repeat answers the same."""
        with self._lock:
            self._count_call()
            if idempotency_key not in self._results:
                intent_id = _fake_id("pi")
                charge = FakeCharge(
                    idempotency_key, intent_id, amount, currency, payment_method, order_id
                )
                result = self._decide(charge, capture)
                self._results[idempotency_key] = self._now[intent_id] = result
                self._by_order.setdefault(order_id, []).append(intent_id)
            return self._results[idempotency_key]

    def capture(
        self, *, idempotency_key: str, payment_intent_id: str, amount: int, order_id: str
    ) -> ChargeResult:
        """Capture `amount` of an authorisation once per key and release the rest; a lapsed
        or voided one is declined (AUTHORIZATION_EXPIRED or CANCELED)."""
        with self._lock:
            self._count_call()
            now = self._now.get(payment_intent_id)
            if now is None:
                raise PaymentRejected(f"No such payment_intent: '{payment_intent_id}'")
            if idempotency_key in self.captures or now.status != "authorized":
                return now
            held = self._held.pop(payment_intent_id)
            if amount > held.amount:
                self._held[payment_intent_id] = held
                raise PaymentRejected(f"The amount to capture ({amount}) is too large.")
            self.captures[idempotency_key] = FakeCapture(idempotency_key, payment_intent_id, amount)
            self.charges.append(replace(held, idempotency_key=idempotency_key, amount=amount))
            self._now[payment_intent_id] = ChargeResult("succeeded", payment_intent_id)
            return self._now[payment_intent_id]

    def expire(self, payment_intent_id: str) -> None:
        """Let the intent's authorisation lapse, as when capture_before passes."""
        with self._lock:
            if self._held.pop(payment_intent_id, None) is not None:
                message = "The authorisation expired before it was captured."
                self._now[payment_intent_id] = ChargeResult(
                    "declined", payment_intent_id, AUTHORIZATION_EXPIRED, message
                )

    def find_charge(self, *, order_id: str) -> ChargeResult | None:
        """The order's success, else its authorisation, else one pending, else its newest
        decline, else None: as a search would answer."""
        with self._lock:
            self._count_call()
            results = [self._now[i] for i in reversed(self._by_order.get(order_id, []))]
        for status in RANK:
            found = next((result for result in results if result.status == status), None)
            if found is not None:
                return found
        return results[0] if results else None

    def cancel(self, *, payment_intent_id: str, order_id: str) -> ChargeResult:
        """Cancel an intent that took no money (voiding an authorisation releases what it
        held); one that did answers as the success it is."""
        with self._lock:
            self._count_call()
            now = self._now.get(payment_intent_id)
            if now is not None and now.status == "succeeded":
                return now
            self._held.pop(payment_intent_id, None)
            if now is not None and now.failure_code == AUTHORIZATION_EXPIRED:
                return now
            result = ChargeResult(
                "declined", payment_intent_id, CANCELED, "The payment was cancelled."
            )
            if now is not None and now.status in {"authorized", "pending"}:
                self._now[payment_intent_id] = result
            return result

    def refund(
        self,
        *,
        idempotency_key: str,
        payment_intent_id: str,
        amount: int | None = None,
        order_id: str | None = None,
    ) -> str:
        """Record one refund per key, of no more than was taken and not yet refunded."""
        with self._lock:
            self._count_call()
            if idempotency_key in self.refunds:
                return self.refunds[idempotency_key].refund_id
            taken = [c.amount for c in self.charges if c.payment_intent_id == payment_intent_id]
            if not taken:
                raise PaymentRejected(f"No such payment_intent: '{payment_intent_id}'")
            done = [r for r in self.refunds.values() if r.payment_intent_id == payment_intent_id]
            remaining = sum(taken) - sum(r.amount or 0 for r in done)
            if remaining <= 0 or (amount or remaining) > remaining:
                raise PaymentRejected(f"Refund amount is greater than unrefunded ({remaining}).")
            refund = FakeRefund(_fake_id("re"), payment_intent_id, amount or remaining)
            self.refunds[idempotency_key] = refund
            return refund.refund_id

    def _count_call(self) -> None:
        self.calls += 1
        if self.unavailable_times > 0:
            self.unavailable_times -= 1
            raise PaymentUnavailable("the fake gateway was told to be unavailable")

    def _decide(self, charge: FakeCharge, capture: CaptureMethod) -> ChargeResult:
        method = charge.payment_method
        if "Declined" not in method and capture == "manual":
            self._held[charge.payment_intent_id] = charge
            lapses = datetime.now(UTC) + timedelta(seconds=self.authorization_seconds)
            return ChargeResult("authorized", charge.payment_intent_id, capture_before=lapses)
        if "Declined" not in method:
            self.charges.append(charge)
            return ChargeResult("succeeded", charge.payment_intent_id)
        code = next((c for name, c in FAKE_DECLINES.items() if method.endswith(name)), None)
        message = "Your card was declined."
        return ChargeResult(
            "declined", charge.payment_intent_id, code or "generic_decline", message
        )
