"""The fixed parts of the OpenAPI document: its info, security schemes, problems and headers."""

from __future__ import annotations

from typing import Any

VERSION = "0.1.0"

INFO: dict[str, Any] = {
    "title": "fulfillment",
    "version": VERSION,
    "description": (
        "Orders from guests and customer accounts, and the back office's warehouses, "
        "products, stock and orders.\n\n"
        "Every error is an RFC 9457 problem document (`application/problem+json`) naming "
        "each faulty field and the reason in `errors`. Amounts are integers in minor units. "
        "`POST /orders` answers `202` at once; read the order back at its `status_url` with "
        "its `order_token`.\n\n"
        "The shop hears of every order event through a signed webhook (`webhooks`: "
        "`orderEvent`), subscribed to under `/admin/webhooks`."
    ),
}

SECURITY_SCHEMES: dict[str, Any] = {
    "orderToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The `order_token` that `POST /orders` answered with; it opens that "
        "order only. Someone else's order is a 404, exactly as a missing one.",
    },
    "customerToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An API token with the role `customer` (`python -m intake.tokens "
        "--subject NAME --role customer`): it places orders that belong to its subject, and "
        "reads, lists and cancels them.",
    },
    "orderLink": {
        "type": "apiKey",
        "in": "query",
        "name": "access",
        "description": "The signed link each of the order's mails carries: it opens that "
        "order for reading until `ORDER_LINK_DAYS` after the mail.",
    },
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An API token (`python -m intake.tokens --subject NAME`): HS256, with "
        "roles `staff:read` (to read) and `staff:write` (to change anything), an issuer, an "
        "audience, an id and a lifetime of at most `TOKEN_MAX_MINUTES`. Without a valid one: "
        "401; without the role: 403.",
    },
    "carrierSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "Carrier-Signature",
        "description": '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with '
        "`CARRIER_WEBHOOK_SECRET`; a forged body or a signature older than "
        "`CARRIER_WEBHOOK_TOLERANCE_SECONDS` is a 401.",
    },
    "metricsToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "`METRICS_TOKEN`, the scraper's token.",
    },
}

# What each refusal means, whichever operation answers it.
PROBLEMS: dict[int, str] = {
    400: "Refused before reading: a NUL character in the URL, malformed JSON or JSON nested "
    "past 32 levels, or a header the operation cannot use",
    401: "No valid credentials for this operation",
    403: "The token does not carry the role this operation needs",
    404: "Not found: no such resource, or a path parameter no route matches",
    409: "Conflict with the current state; see `detail`",
    413: "The body is larger than the operation takes",
    415: "The body's media type is not the one the operation takes",
    422: "Invalid request: each faulty field and the reason",
    429: "Too many requests: wait for `Retry-After` seconds",
    503: "An unexpected failure, logged; retry (with the same `Idempotency-Key`)",
}

RETRY_AFTER: dict[str, Any] = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 0},
}

RESPONSE_HEADERS: dict[str, Any] = {
    "Location": {
        "description": "Where to read what was created",
        "schema": {"type": "string"},
        "required": True,
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same `Idempotency-Key`; left out otherwise",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": RETRY_AFTER,
}

PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme and realm to authenticate with",
            "schema": {"type": "string"},
        }
    },
    409: {"Retry-After": RETRY_AFTER},
    429: {"Retry-After": RETRY_AFTER},
}
