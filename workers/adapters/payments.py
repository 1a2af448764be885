"""The payment port, the Stripe adapter (official SDK) and an in-memory fake."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

import stripe
from stripe.params import PaymentIntentCreateParams, RefundCreateParams
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ChargeResult:
    """How a charge ended: money taken, or a decline that retrying will not change."""

    status: Literal["succeeded", "declined"]
    gateway_id: str | None
    failure_code: str | None = None
    failure_message: str | None = None


class PaymentUnavailable(Exception):
    """Transient (timeout, connection, 5xx, 409 key in use, rate limit): retry with the same key."""


class PaymentRejected(Exception):
    """Permanent: the gateway refused the request itself (bad parameters, key reuse, auth)."""


class PaymentGateway(Protocol):
    """Something that takes and returns money, idempotently by key."""

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: int,
        currency: str,
        payment_method: str,
        order_id: str,
    ) -> ChargeResult:
        """Charge `amount` minor units once per key, however often this is called."""

    def refund(
        self,
        *,
        idempotency_key: str,
        payment_intent_id: str,
        amount: int | None = None,
        order_id: str | None = None,
    ) -> str:
        """Refund all or `amount` of a charge once per key; returns the refund id."""


def is_transient(error: BaseException) -> bool:
    """Whether the request may not have been answered, so the same key can be sent again."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    # 409 is another request holding the same key right now; the SDK maps it to APIError.
    status = getattr(error, "http_status", None)
    return isinstance(error, stripe.APIError) and (status is None or status >= 500 or status == 409)


class StripeGateway:
    """Payments through the official Stripe SDK, against Stripe or a compatible sandbox."""

    def __init__(
        self, *, api_key: str, api_base: str | None, timeout: float, attempts: int
    ) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            # Retries are ours (below), so every attempt is logged and bounded in one place.
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._attempts = attempts

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway:
        """The gateway the settings describe."""
        return cls(
            api_key=settings.payment_api_key.get_secret_value(),
            api_base=settings.payment_api_base,
            timeout=settings.payment_timeout,
            attempts=settings.payment_attempts,
        )

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: int,
        currency: str,
        payment_method: str,
        order_id: str,
    ) -> ChargeResult:
        """Create and confirm a PaymentIntent; a card error is a decline, not an exception."""
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            # Server-side confirmation has nowhere to redirect a customer to.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"order_id": order_id},
        }
        options: stripe.RequestOptions = {"idempotency_key": idempotency_key}
        try:
            intent = self._call(
                lambda: self._client.v1.payment_intents.create(params, options), order_id
            )
        except stripe.CardError as error:
            return _declined(error, order_id)
        if intent.status != "succeeded":
            log.info("payment %s is %s", intent.id, intent.status, extra={"order_id": order_id})
            return ChargeResult(
                "declined", intent.id, intent.status, "The payment was not completed."
            )
        log.info("charged %s %s as %s", amount, currency, intent.id, extra={"order_id": order_id})
        return ChargeResult("succeeded", intent.id)

    def refund(
        self,
        *,
        idempotency_key: str,
        payment_intent_id: str,
        amount: int | None = None,
        order_id: str | None = None,
    ) -> str:
        """Refund all or `amount` of the PaymentIntent's charge; returns the refund id."""
        params: RefundCreateParams = {"payment_intent": payment_intent_id}
        if amount is not None:
            params["amount"] = amount
        options: stripe.RequestOptions = {"idempotency_key": idempotency_key}
        try:
            refund = self._call(lambda: self._client.v1.refunds.create(params, options), order_id)
        except stripe.CardError as error:
            raise PaymentRejected(str(error)) from error
        log.info("refunded %s as %s", payment_intent_id, refund.id, extra={"order_id": order_id})
        return refund.id

    def _call(self, request: Callable[[], T], order_id: str | None) -> T:
        """Send `request` (same key every time) until it is answered, retrying transient errors."""
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_random_exponential(multiplier=0.1, max=2),
            retry=retry_if_exception(is_transient),
            before_sleep=lambda state: log.warning(
                "payment attempt %s failed, retrying: %s",
                state.attempt_number,
                state.outcome.exception() if state.outcome else None,
                extra={"order_id": order_id},
            ),
            reraise=True,
        )
        try:
            return retrying(request)
        except stripe.CardError:
            raise
        except stripe.StripeError as error:
            if is_transient(error):
                log.warning("payment gateway unavailable: %s", error, extra={"order_id": order_id})
                raise PaymentUnavailable(str(error)) from error
            log.error("payment request rejected: %s", error, extra={"order_id": order_id})
            raise PaymentRejected(str(error)) from error


def _declined(error: stripe.CardError, order_id: str) -> ChargeResult:
    details = error.error
    intent = details.payment_intent if details else None
    code = (details.decline_code if details else None) or error.code
    log.info("payment declined: %s", code, extra={"order_id": order_id})
    return ChargeResult("declined", intent.id if intent else None, code, error.user_message)


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
                self._results[idempotency_key] = self._decide(charge)
            return self._results[idempotency_key]

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
