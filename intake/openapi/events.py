"""The document's `webhooks`: the signed order event POSTed to each subscription (README
"Webhooks"), its body as a pydantic model and its headers with the signature recipe."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from intake.api_models import Closed
from models.domain.webhooks import EVENT_TYPES, SIGNATURE_HEADER

EVENT_ID = r"^evt_[0-9]+$"

WebhookEventType = Annotated[str, Field(json_schema_extra={"enum": list(EVENT_TYPES)})]


class OrderEventData(Closed):
    """The order and the change the event tells of."""

    order_id: uuid.UUID
    kind: str = Field(description="the timeline entry's kind: `held`, `hold_released`, `paid`, …")
    from_status: str | None = Field(description="the order's status before, where it changed")
    status: str | None = Field(description="the order's status after, where it changed")
    detail: dict[str, Any] = Field(
        description="what the entry records: a hold's `reason`, `note`, `by` and `until`, a "
        "release's `by` and `reason`, a payment's `payment`, a cancel's `reason`, …"
    )


class WebhookEvent(Closed):
    """One order event, as the bytes that are signed and POSTed (compact JSON, sorted keys)."""

    id: str = Field(pattern=EVENT_ID, description="`Webhook-Id`: the same on every attempt")
    type: WebhookEventType
    created: datetime = Field(description="when it happened, UTC")
    data: OrderEventData


SIGNATURE_RECIPE = (
    "`t=<unix seconds>,v1=<hex HMAC-SHA256>`, Stripe's scheme: the HMAC-SHA256, under the "
    "subscription's secret (`whsec_…`, shown once when it was made), of `{t}.{body}`: the "
    "timestamp, a dot and the raw bytes of the body. Verify it on those bytes before parsing "
    "them, compare in constant time, and refuse a `t` more than five minutes from now."
)

DELIVERY = (
    "Every order event is POSTed to each active subscription that wants its type (an empty "
    "`event_types`: all of them), in the order of its order's events. A `2xx` answer is a "
    "success; a `4xx` (but `408` and `429`) is refused for good; anything else, a timeout or "
    "no connection is tried again after an exponential backoff, at most "
    "`WEBHOOK_MAX_ATTEMPTS` times. The same event may arrive twice: keep the `Webhook-Id`s "
    "processed. Subscriptions, their delivery log and redelivery: `/admin/webhooks`."
)


def webhooks_section(event_schema: dict[str, Any]) -> dict[str, Any]:
    """The `webhooks` object: the one request the shop's endpoint receives."""
    header = {"in": "header", "required": True}
    return {
        "orderEvent": {
            "post": {
                "tags": ["webhooks"],
                "summary": "An order event, signed, POSTed to the subscription's URL",
                "description": DELIVERY,
                "operationId": "webhooks.order_event",
                "parameters": [
                    header
                    | {
                        "name": "Webhook-Id",
                        "description": "The event's id, the same on every attempt",
                        "schema": {"type": "string", "pattern": EVENT_ID},
                    },
                    header
                    | {
                        "name": SIGNATURE_HEADER,
                        "description": SIGNATURE_RECIPE,
                        "schema": {"type": "string", "pattern": r"^t=[0-9]+(,v1=[0-9a-f]{64})+$"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": event_schema}},
                },
                "responses": {
                    "2XX": {"description": "Received: the delivery succeeded"},
                    "4XX": {"description": "Refused for good (`408` and `429`: tried again)"},
                    "5XX": {"description": "Not now: tried again after a backoff"},
                },
            }
        }
    }
