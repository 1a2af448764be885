"""The OpenAPI 3.1 document at /openapi.json, built from what each view declares, and /docs."""

from __future__ import annotations

from intake.openapi.declare import (
    CARRIER_SIGNATURE,
    IDEMPOTENCY_KEY,
    METRICS_TOKEN,
    ORDER_TOKEN,
    STAFF,
    Content,
    Reply,
    operation,
)

__all__ = [
    "CARRIER_SIGNATURE",
    "IDEMPOTENCY_KEY",
    "METRICS_TOKEN",
    "ORDER_TOKEN",
    "STAFF",
    "Content",
    "Reply",
    "operation",
]
