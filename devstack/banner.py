"""What `make run` prints once the stack answers: where everything is and a first order."""

from __future__ import annotations

import json
import uuid

from devstack.mailbox import DEFAULT_MAILDIR
from settings import DEV_FLOWER_PASSWORD, Settings

EXAMPLE_ORDER = {
    "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "shipping_address": {
        "line1": "1 Main St",
        "city": "New York",
        "postal_code": "10001",
        "country": "US",
    },
    "delivery_method": "curbside",
    "payment_method": "pm_card_visa",
    "lines": [{"article_number": "493.857.51", "quantity": 1}],
}
RULE = "=" * 78


def banner(settings: Settings, overrides: dict[str, str], api: str, flower: str) -> str:
    """The ready banner, naming the URLs actually in use."""
    password = settings.flower_password.get_secret_value()
    # Only the well-known development password is worth printing.
    shown = password if password == DEV_FLOWER_PASSWORD else "<FLOWER_PASSWORD>"
    payments = overrides.get("payment_api_base") or settings.payment_api_base or "Stripe"
    return "\n".join(
        [
            RULE,
            "Fulfillment is running.",
            f"  API              {api}",
            f"  API docs         {api}/docs/   (OpenAPI 3.1: {api}/openapi.json)",
            f"  Flower           {flower}   login: {settings.flower_user} / {shown}",
            f"  Mailbox          {DEFAULT_MAILDIR}",
            "                   read it: make mail   (or: python -m devstack.mailbox --show 1)",
            f"  Payment sandbox  {payments}",
            *_backing_services(settings, overrides),
            "",
            "Place an order:",
            curl_example(api),
            "",
            "Ctrl-C stops everything.",
            RULE,
        ]
    )


def curl_example(api: str) -> str:
    """A ready-to-paste POST /orders with a fresh Idempotency-Key."""
    body = json.dumps(EXAMPLE_ORDER)
    return "\n".join(
        [
            f"  curl -sS -X POST {api}/orders \\",
            "    -H 'Content-Type: application/json' \\",
            f"    -H 'Idempotency-Key: \"{uuid.uuid4()}\"' \\",
            f"    -d '{body}'",
        ]
    )


def _backing_services(settings: Settings, overrides: dict[str, str]) -> list[str]:
    rows = {
        "PostgreSQL": overrides.get("database_url") or settings.database_url,
        "Redis": overrides.get("redis_url") or settings.redis_url,
        "SQS": overrides.get("sqs_endpoint_url") or settings.sqs_endpoint_url or "AWS",
        "SMTP": f"{overrides.get('smtp_host', settings.smtp_host)}:"
        f"{overrides.get('smtp_port', settings.smtp_port)}",
    }
    return [f"  {name:<16} {value}" for name, value in rows.items()]
