"""The Celery queue names, importable without the broker settings that celeryconfig needs."""

from __future__ import annotations

QUEUES = ("allocation", "payments", "shipping", "notifications", "webhooks", "maintenance")
PAYMENTS = "payments"


def queue_name(prefix: str, name: str) -> str:
    """A queue's name on the broker: the configured prefix, then the name."""
    return f"{prefix}{name}"
