"""What the sandbox says, shaped as Stripe says it: errors, intents, declines, refunds, params."""

from __future__ import annotations

import secrets
import time
from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    """A Stripe-shaped error answer: nothing moved, so it is never stored under a key."""

    def __init__(self, status: int, error: Json, headers: dict[str, str] | None = None) -> None:
        super().__init__(error.get("message"))
        self.status, self.error, self.headers = status, error, headers or {}


def invalid(
    message: str, param: str | None = None, code: str | None = None, status: int = 400
) -> ApiError:
    """An invalid_request_error, the way Stripe words it."""
    error = {"type": "invalid_request_error", "message": message, "param": param, "code": code}
    return ApiError(status, {key: value for key, value in error.items() if value})


def positive_param(params: Json, name: str, *, required: bool) -> int | None:
    """The parameter as a positive integer, None when it is optional and absent."""
    raw = params.get(name)
    if raw is None and required:
        raise invalid(f"Missing required param: {name}.", name, "parameter_missing")
    if raw is not None and (not isinstance(raw, str) or not raw.isdigit() or int(raw) < 1):
        raise invalid(f"Invalid positive integer: {raw}", name, "parameter_invalid_integer")
    return None if raw is None else int(raw)


def currency_param(params: Json) -> str:
    """The three-letter currency, lower-cased as Stripe echoes it."""
    currency = params.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise invalid(f"Invalid currency: {currency}", "currency", "parameter_missing")
    return currency.lower()


def new_intent(
    amount: int, currency: str, method: str | None, metadata: Json, capture_method: str
) -> Json:
    """A fresh payment intent, not yet confirmed."""
    intent_id = f"pi_{secrets.token_hex(12)}"
    secret = f"{intent_id}_secret_{secrets.token_hex(12)}"
    status = "requires_confirmation" if method else "requires_payment_method"
    fixed = {"object": "payment_intent", "livemode": False, "payment_method_types": ["card"]}
    none = dict.fromkeys(
        ("last_payment_error", "latest_charge", "description", "customer", "cancellation_reason")
    )
    money = {"amount": amount, "amount_capturable": 0, "amount_received": 0, "currency": currency}
    varying = money | {"status": status, "capture_method": capture_method}
    extra = {"client_secret": secret, "created": int(time.time()), "payment_method": method}
    return {"id": intent_id, **fixed, **none, **varying, **extra, "metadata": metadata}


def decline(intent: Json, code: str, decline_code: str | None, message: str) -> Json:
    """Mark the intent failed the way Stripe does; the error carries the intent."""
    doc_url = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    parts = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message}
    error = {key: value for key, value in parts.items() if value} | {"doc_url": doc_url}
    intent.update(status="requires_payment_method", payment_method=None, last_payment_error=error)
    return {"error": error | {"payment_intent": intent}}


def new_refund(
    payment_intent: str, charge: str, currency: str, amount: int, metadata: Json
) -> Json:
    """A succeeded refund of `amount` from the charge."""
    refund_id, created = f"re_{secrets.token_hex(12)}", int(time.time())
    fixed = {"object": "refund", "status": "succeeded", "reason": None, "created": created}
    money = {"amount": amount, "currency": currency, "charge": charge}
    links = {"payment_intent": payment_intent, "metadata": metadata}
    return {"id": refund_id, **fixed, **money, **links}
