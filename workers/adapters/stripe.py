"""The payment port and its Stripe adapter (official SDK); the fake is in fake_payments."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import stripe
from stripe.params import (
    PaymentIntentCaptureParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    PaymentIntentSearchParams,
    RefundCreateParams,
)
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from models.ports import (
    AUTHORIZATION_EXPIRED,
    CANCELED,
    UNSETTLED,
    CaptureMethod,
    ChargeResult,
    PaymentRejected,
    PaymentUnavailable,
)
from settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Whether the request may not have been answered, so the same key can be sent again."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    # 409 is another request holding the same key right now; the SDK maps it to APIError.
    status = getattr(error, "http_status", None)
    return isinstance(error, stripe.APIError) and (status is None or status >= 500 or status == 409)


# An authorisation's deadline is on its charge, which the intent names unless asked to expand.
WITH_CHARGE: list[str] = ["latest_charge"]
# The refusal of a capture (or cancel) of an intent no longer in a state that allows it.
UNEXPECTED_STATE = "payment_intent_unexpected_state"

# The longest wait between two attempts of one call.
RETRY_WAIT_MAX = 2.0
# How long the gateway may go on with a request after we stopped waiting for its answer.
SERVER_SLACK_SECONDS = 1.0


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
        # Each attempt's timeout, the waits between them (at most RETRY_WAIT_MAX each), and a
        # second for the gateway to finish a request we had stopped waiting for.
        self.longest_call_seconds = (
            timeout * attempts + RETRY_WAIT_MAX * max(0, attempts - 1) + SERVER_SLACK_SECONDS
        )

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
        capture: CaptureMethod = "automatic",
    ) -> ChargeResult:
        """Create and confirm a PaymentIntent; a card error is a decline, not an exception.
        With `capture="manual"` the card only authorises the amount (`authorized`, with the
        authorisation's deadline from the expanded charge)."""
        params: PaymentIntentCreateParams = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            # Server-side confirmation has nowhere to redirect a customer to.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {"order_id": order_id},
        }
        if capture == "manual":
            params |= {"capture_method": "manual", "expand": WITH_CHARGE}
        options: stripe.RequestOptions = {"idempotency_key": idempotency_key}
        try:
            intent = self._call(
                lambda: self._client.v1.payment_intents.create(params, options), order_id
            )
        except stripe.CardError as error:
            return _declined(error, order_id)
        log.debug("payment %s is %s", intent.id, intent.status, extra={"order_id": order_id})
        return _as_result(intent)

    def capture(
        self, *, idempotency_key: str, payment_intent_id: str, amount: int, order_id: str
    ) -> ChargeResult:
        """Capture `amount` of an authorised intent (the rest is released), once per key.
        An intent captured already answers `succeeded`; one whose authorisation lapsed or
        was voided answers `declined` (AUTHORIZATION_EXPIRED or CANCELED)."""
        params: PaymentIntentCaptureParams = {"amount_to_capture": amount, "expand": WITH_CHARGE}
        options: stripe.RequestOptions = {"idempotency_key": idempotency_key}
        intents = self._client.v1.payment_intents
        try:
            intent = self._call(
                lambda: intents.capture(payment_intent_id, params, options), order_id
            )
        except PaymentRejected as error:
            if getattr(error.__cause__, "code", None) != UNEXPECTED_STATE:
                raise
            # Captured already under another key, lapsed, or voided: the intent tells which.
            intent = self._retrieve(payment_intent_id, order_id)
        log.debug("payment %s is %s", intent.id, intent.status, extra={"order_id": order_id})
        return _as_result(intent)

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
        log.debug("refunded %s as %s", payment_intent_id, refund.id, extra={"order_id": order_id})
        return refund.id

    def find_charge(self, *, order_id: str) -> ChargeResult | None:
        """Search intents by metadata order_id: a success, else an authorisation, else one still
        pending, else the newest decline, else None."""
        # In the search language a backslash escapes the quote and itself.
        quoted = order_id.replace("\\", "\\\\").replace("'", "\\'")
        params: PaymentIntentSearchParams = {
            "query": f"metadata['order_id']:'{quoted}'",
            "expand": [f"data.{field}" for field in WITH_CHARGE],
        }
        found = self._call(lambda: self._client.v1.payment_intents.search(params), order_id)
        # Newest first, as search answers; one success outranks any number of declines, then
        # an authorisation, then an intent that may still succeed.
        best = _best(found.data)
        if best is not None:
            log.debug("found %s intent %s", best.status, best.id, extra={"order_id": order_id})
            return _as_result(best)
        declined = next((i for i in found.data if i.last_payment_error), None)
        if declined is None or declined.last_payment_error is None:
            log.debug("found no charge", extra={"order_id": order_id})
            return None
        error = declined.last_payment_error
        code = error.decline_code or error.code
        log.debug("found decline %s: %s", declined.id, code, extra={"order_id": order_id})
        return ChargeResult("declined", declined.id, code, error.message)

    def cancel(self, *, payment_intent_id: str, order_id: str) -> ChargeResult:
        """Cancel an intent that has not taken money (voiding an authorisation releases what
        it held); a success answers as the success it is."""
        try:
            intent = self._call(
                lambda: self._client.v1.payment_intents.cancel(payment_intent_id), order_id
            )
        except PaymentRejected:
            # Stripe refuses to cancel an intent in a final state: it succeeded, or was cancelled.
            intent = self._retrieve(payment_intent_id, order_id)
        log.debug("payment %s is %s", intent.id, intent.status, extra={"order_id": order_id})
        return _as_result(intent)

    def _retrieve(self, payment_intent_id: str, order_id: str) -> stripe.PaymentIntent:
        params: PaymentIntentRetrieveParams = {"expand": WITH_CHARGE}
        return self._call(
            lambda: self._client.v1.payment_intents.retrieve(payment_intent_id, params), order_id
        )

    def _call(self, request: Callable[[], T], order_id: str | None) -> T:
        """Send `request` (same key every time) until it is answered, retrying transient errors."""
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_random_exponential(multiplier=0.1, max=RETRY_WAIT_MAX),
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


def _best(intents: Sequence[stripe.PaymentIntent]) -> stripe.PaymentIntent | None:
    """The first success, else the first authorisation, else the first unsettled intent."""
    for wanted in ({"succeeded"}, {"requires_capture"}, UNSETTLED):
        found = next((i for i in intents if i.status in wanted), None)
        if found is not None:
            return found
    return None


def _as_result(intent: stripe.PaymentIntent) -> ChargeResult:
    if intent.status == "succeeded":
        return ChargeResult("succeeded", intent.id)
    if intent.status == "requires_capture":
        return ChargeResult("authorized", intent.id, capture_before=_capture_before(intent))
    if intent.status in UNSETTLED:
        return ChargeResult("pending", intent.id, intent.status)
    return _declined_intent(intent)


def _declined_intent(intent: stripe.PaymentIntent) -> ChargeResult:
    """An intent that took no money and will not: lapsed, declined, or cancelled."""
    if intent.status == "canceled" and intent.cancellation_reason == "automatic":
        message = "The authorisation expired before it was captured."
        return ChargeResult("declined", intent.id, AUTHORIZATION_EXPIRED, message)
    error = intent.last_payment_error
    if error is not None:
        code = error.decline_code or error.code
        return ChargeResult("declined", intent.id, code, error.message)
    if intent.status == "canceled":
        return ChargeResult("declined", intent.id, CANCELED, "The payment was cancelled.")
    return ChargeResult("declined", intent.id, intent.status, "The payment was not completed.")


def _capture_before(intent: stripe.PaymentIntent) -> datetime | None:
    """When the authorisation lapses, if the intent came with its charge expanded."""
    charge = intent.latest_charge
    details = charge.payment_method_details if isinstance(charge, stripe.Charge) else None
    card = details.card if details is not None else None
    if card is None or card.capture_before is None:
        return None
    return datetime.fromtimestamp(card.capture_before, UTC)


def _declined(error: stripe.CardError, order_id: str) -> ChargeResult:
    details = error.error
    intent = details.payment_intent if details else None
    code = (details.decline_code if details else None) or error.code
    log.debug("payment declined: %s", code, extra={"order_id": order_id})
    return ChargeResult("declined", intent.id if intent else None, code, error.user_message)
