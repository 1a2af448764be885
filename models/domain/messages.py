"""The versioned JSON documents that travel on the orders queue."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.domain.follow_ups import REQUEST_ID_FIELD, sane_request_id

ORDER_PLACED = "order.placed"
ORDER_CANCELLED = "order.cancelled"
ORDER_DELIVERED = "order.delivered"
VERSION = 1


class MalformedMessage(ValueError):
    """A message that no retry can make sense of; it belongs in the dead-letter queue."""


@dataclass(frozen=True)
class OrderMessage:
    """Something happened to an order that the workers must act on."""

    order_id: uuid.UUID
    occurred_at: datetime
    # The request it traces back to, for the logs: optional, and dropped unless sane.
    request_id: str | None = field(default=None, compare=False)

    type = ""

    def to_json(self) -> dict[str, Any]:
        """The document as sent on the queue."""
        return {
            "type": self.type,
            "version": VERSION,
            "order_id": str(self.order_id),
            "occurred_at": self.occurred_at.isoformat(),
        }


@dataclass(frozen=True)
class OrderPlaced(OrderMessage):
    """An order was recorded and waits for fulfilment."""

    type = ORDER_PLACED


@dataclass(frozen=True)
class OrderCancelled(OrderMessage):
    """An order was cancelled: its payment, if any, must be refunded and its customer told."""

    type = ORDER_CANCELLED


@dataclass(frozen=True)
class OrderDelivered(OrderMessage):
    """Every parcel of an order arrived: the customer is told."""

    type = ORDER_DELIVERED


KINDS: dict[str, type[OrderMessage]] = {
    ORDER_PLACED: OrderPlaced,
    ORDER_CANCELLED: OrderCancelled,
    ORDER_DELIVERED: OrderDelivered,
}


def parse_message(body: str) -> OrderMessage:
    """Read any order document, or raise MalformedMessage saying what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedMessage(f"not JSON: {type(exc).__name__}") from exc
    if not isinstance(document, dict):
        raise MalformedMessage("not a JSON object")
    kind = KINDS.get(str(document.get("type")))
    if kind is None:
        raise MalformedMessage(f"unknown type {document.get('type')!r}")
    version = document.get("version")
    # `type(...) is int` because True == 1 and 1.0 == 1 would otherwise pass.
    if type(version) is not int or version != VERSION:
        raise MalformedMessage(f"unsupported version {document.get('version')!r}")
    try:
        return kind(
            order_id=uuid.UUID(str(document["order_id"])),
            occurred_at=datetime.fromisoformat(str(document["occurred_at"])),
            request_id=sane_request_id(document.get(REQUEST_ID_FIELD)),
        )
    except (KeyError, ValueError) as exc:
        raise MalformedMessage(f"bad field: {exc}") from exc


def parse_order_placed(body: str) -> OrderPlaced:
    """Read an `order.placed` document, or raise MalformedMessage saying what is wrong."""
    message = parse_message(body)
    if not isinstance(message, OrderPlaced):
        raise MalformedMessage(f"unknown type {message.type!r}")
    return message
