"""The OpenAPI 3.1 document at /openapi.json, built from what each view declares, and /docs."""

from __future__ import annotations

from intake.openapi.declare import (
    ACCOUNT,
    CARRIER_SIGNATURE,
    IDEMPOTENCY_KEY,
    MAYBE_CUSTOMER,
    METRICS_TOKEN,
    ORDER_ACTOR,
    ORDER_READER,
    ORDER_TOKEN,
    STAFF,
    Content,
    Reply,
    operation,
)

__all__ = [
    "ACCOUNT",
    "CARRIER_SIGNATURE",
    "IDEMPOTENCY_KEY",
    "MAYBE_CUSTOMER",
    "METRICS_TOKEN",
    "ORDER_ACTOR",
    "ORDER_READER",
    "ORDER_TOKEN",
    "STAFF",
    "Content",
    "Reply",
    "operation",
]
