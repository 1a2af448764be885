"""Webhooks to the shop: the public event types, the signature recipe and what is retried.

Pure rules, no I/O. The signature is Stripe's recipe: the header
`Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

SIGNATURE_HEADER = "Webhook-Signature"

# Every public event type a subscription may ask for (an empty list asks for all of them).
EVENT_TYPES = (
    "order.placed",
    "order.allocated",
    "order.backordered",
    "order.paid",
    "order.captured",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "order.refunded",
    "order.returned",
    "order.held",
    "order.released",
    "order.rejected",
    "order.payment_failed",
)

# The timeline's kinds (models/store/orders.py) and the public event each one is. Kinds not
# here (dispatched, step_failed, ...) are the system's own business and are not sent.
TIMELINE_TYPES = {
    "received": "order.placed",
    "allocated": "order.allocated",
    "backordered": "order.backordered",
    "paid": "order.paid",
    "captured": "order.captured",
    "partially_shipped": "order.shipped",
    "shipped": "order.shipped",
    "delivered": "order.delivered",
    "collected": "order.delivered",
    "cancelled": "order.cancelled",
    "refunded": "order.refunded",
    "part_refunded": "order.refunded",
    "return_received": "order.returned",
    "held": "order.held",
    "on_hold": "order.held",
    "released": "order.released",
    "hold_released": "order.released",
    "rejected": "order.rejected",
    "payment_failed": "order.payment_failed",
}

# Delivery statuses: pending until it ends; failed is a 4xx (never retried); exhausted is the
# end of the retries.
PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
EXHAUSTED = "exhausted"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED, EXHAUSTED)

# Client errors that mean "not now" rather than "never": retried like a 5xx.
RETRIED_CLIENT_ERRORS = frozenset({408, 429})


def new_secret() -> str:
    """A fresh signing secret, shown to the shop once."""
    return "whsec_" + secrets.token_urlsafe(32)


def event_body(event_id: int, event_type: str, created: str, data: dict[str, Any]) -> bytes:
    """The JSON document a subscriber receives: the bytes that are signed and sent."""
    document = {"id": f"evt_{event_id}", "type": event_type, "created": created, "data": data}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>` under the subscription's secret."""
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The Webhook-Signature header's value."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """Whether `header` signs `body` under `secret`, made within `tolerance` seconds of `now`."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v) for v in parts.get("v1", []))


def retried(status_code: int | None) -> bool:
    """Whether an answer (None: a timeout or no connection) is worth another attempt."""
    if status_code is None:
        return True
    # A 4xx is the subscriber refusing the event for good; anything else (a 5xx, a redirect
    # that is not followed) may go better later.
    return not 400 <= status_code < 500 or status_code in RETRIED_CLIENT_ERRORS


def succeeded(status_code: int | None) -> bool:
    """Whether the answer accepts the event."""
    return status_code is not None and 200 <= status_code < 300
