"""Webhook subscription requests and answers, as pydantic models (the OpenAPI schemas too)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from intake.api_models import Closed
from intake.schemas import Strict
from models.domain.webhooks import DELIVERY_STATUSES, EVENT_TYPES

MAX_DELIVERIES = 200


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password")
    return value


def _known_type(value: str) -> str:
    if value not in EVENT_TYPES:
        raise ValueError(f"unknown event type; known: {', '.join(EVENT_TYPES)}")
    return value


HookUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(_http_url)
]
EventType = Annotated[str, AfterValidator(_known_type)]
EventTypes = Annotated[list[EventType], Field(max_length=len(EVENT_TYPES))]
Secret = Annotated[str, StringConstraints(pattern=r"^[!-~]{16,200}$")]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class SubscriptionIn(Strict):
    """A new subscription: where to send, which event types (none: all), and optionally the
    secret to sign with (otherwise one is made and shown in the answer, once)."""

    url: HookUrl
    event_types: EventTypes = Field(default_factory=list)
    secret: Secret | None = None
    description: Description | None = None


class SubscriptionPatch(Strict):
    """What may change: the URL, the event types, the description; `active` disables or
    enables it (enabling sends what waited, in order)."""

    url: HookUrl | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    active: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _something_to_change(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data:
            raise ValueError("give at least one of url, event_types, description, active")
        return data


class DeliveriesQuery(Strict):
    """How many of the newest deliveries to list, and below which id (the next page)."""

    limit: int = Field(50, ge=1, le=MAX_DELIVERIES)
    before: int | None = Field(None, ge=1)


class SubscriptionOut(Closed):
    """A subscription, without its secret."""

    id: int
    url: str
    event_types: list[str] = Field(description="empty: every event type")
    description: str | None
    active: bool
    created_at: datetime
    failing_since: datetime | None = Field(description="since when every delivery failed")
    disabled_at: datetime | None
    disabled_reason: str | None


class SubscriptionCreated(SubscriptionOut):
    """A new subscription with its signing secret: the only answer that shows it."""

    secret: str


class Subscriptions(Closed):
    """Every subscription, by id."""

    subscriptions: list[SubscriptionOut]


class AttemptOut(Closed):
    """One POST of a delivery."""

    attempt: int
    at: datetime
    status_code: int | None = Field(description="none: a timeout or no connection")
    latency_ms: int
    error: str | None
    outcome: str = Field(description="succeeded, failed (a 4xx, not retried), retry, exhausted")


class DeliveryOut(Closed):
    """One event to this subscription, and its log of attempts."""

    id: int
    event_id: str
    event_type: str
    order_id: str
    status: str = Field(description=" | ".join(DELIVERY_STATUSES))
    attempts: int
    last_status_code: int | None
    last_latency_ms: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    log: list[AttemptOut]


class Deliveries(Closed):
    """A subscription's deliveries, newest first."""

    deliveries: list[DeliveryOut]
