"""Placing an order, a guest's or a customer account's: checked, located, priced, and recorded
with its message in one statement."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from models.domain.clock import utcnow
from models.domain.follow_ups import ORDERS, FollowUp
from models.domain.geo import Point
from models.domain.lifecycle import DeliveryMethod, OrderStatus
from models.domain.messages import OrderPlaced
from models.domain.pricing import PricedLine, Totals, delivery_eta, order_totals
from models.store.follow_ups import message_dedupe_key, pending_row
from models.store.geodata import locate, normalise_postal_code, us_state
from models.store.idempotency import KeyClaim
from models.store.placing import NewOrder, insert_order, prices
from models.store.unit_of_work import Work
from settings import Settings


class CustomerDraft(Protocol):
    """Who orders."""

    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...


class AddressDraft(Protocol):
    """Where it goes."""

    @property
    def line1(self) -> str: ...
    @property
    def line2(self) -> str | None: ...
    @property
    def city(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def postal_code(self) -> str: ...
    @property
    def country(self) -> str: ...


class LineDraft(Protocol):
    """A product and how many."""

    @property
    def article_number(self) -> str: ...
    @property
    def quantity(self) -> int: ...


class OrderDraft(Protocol):
    """An order as a client asked for it, already checked for shape (the intake's schema)."""

    @property
    def customer(self) -> CustomerDraft: ...
    @property
    def shipping_address(self) -> AddressDraft: ...
    @property
    def delivery_method(self) -> DeliveryMethod: ...
    @property
    def payment_method(self) -> str: ...
    @property
    def lines(self) -> Sequence[LineDraft]: ...


class InvalidOrder(ValueError):
    """The order names what the shop cannot sell or deliver; `errors` says field and reason."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['reason']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class PlacedOrder:
    """What the client is told about an order it is placing: chosen before it is written."""

    order_id: uuid.UUID
    token: str
    # The customer account placing it; None for a guest.
    owner: str | None = None

    @classmethod
    def new(cls, secret: str, owner: str | None = None) -> PlacedOrder:
        """A fresh id, and the guest token `secret` derives from it."""
        order_id = uuid.uuid4()
        return cls(order_id, order_token(secret, order_id), owner)


def order_token(secret: str, order_id: uuid.UUID) -> str:
    """The guest token of an order: whoever holds `secret` can derive it, nobody else can.

    Derived rather than drawn, so it is never stored: the order keeps its hash, and a
    replayed request gets it by deriving it again.
    """
    digest = hmac.new(secret.encode(), f"order-token:{order_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def hash_token(token: str) -> str:
    """The stored form of a guest order token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _price_lines(connection: Connection, request: OrderDraft, currency: str) -> list[PricedLine]:
    wanted = [line.article_number for line in request.lines]
    products = prices(connection, wanted)
    errors = []
    for index, line in enumerate(request.lines):
        product = products.get(line.article_number)
        if product is None:
            errors.append({"field": f"lines[{index}].article_number", "reason": "unknown article"})
        elif product.currency != currency:
            errors.append(
                {"field": f"lines[{index}].article_number", "reason": "not sold in this shop"}
            )
    if errors:
        raise InvalidOrder(errors)
    return [
        PricedLine(line.article_number, line.quantity, products[line.article_number].amount)
        for line in request.lines
    ]


def _locate(connection: Connection, request: OrderDraft) -> Point:
    address = request.shipping_address
    point = locate(connection, address.country, address.postal_code)
    if point is None:
        reason = f"cannot be located in {address.country}"
        raise InvalidOrder([{"field": "shipping_address.postal_code", "reason": reason}])
    return point


def place_order(
    work: Work,
    request: OrderDraft,
    settings: Settings,
    placed: PlacedOrder,
    claim: KeyClaim | None = None,
) -> bool:
    """Record the order with its lines, first event and SQS message, claiming `claim`'s key.

    False, with nothing written, when the key is already held: the caller replays its response.
    """
    now = utcnow()
    with work.single_statements() as connection:
        lines = _price_lines(connection, request, settings.currency)
        point = _locate(connection, request)
        totals = order_totals(lines, request.delivery_method.value, settings.delivery_costs())
        message = _message(work, placed.order_id, now)
        new = NewOrder(
            order=_order(
                request, point=point, totals=totals, settings=settings, now=now, placed=placed
            ),
            lines=lines,
            event_detail={"total": totals.total, "currency": settings.currency},
            message=message,
        )
        outbox_id = insert_order(connection, new, claim)
    if outbox_id is None:
        return False
    # The payload as stored, with the request id pending_row added.
    stored = FollowUp(outbox_id, ORDERS, message["payload"], message["attempts"], True)
    work.publish_committed([stored])
    return True


def _message(work: Work, order_id: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The outbox row of the order's `order.placed` message."""
    payload = OrderPlaced(order_id, now).to_json()
    return pending_row(
        topic=ORDERS,
        subject=str(order_id),
        payload=payload,
        key=message_dedupe_key(payload, order_id),
        delay=0.0,
        publish_now=ORDERS in work.publishes,
        lease=work.lease_seconds,
        now=now,
    )


def _order(
    request: OrderDraft,
    *,
    point: Point,
    totals: Totals,
    settings: Settings,
    now: datetime,
    placed: PlacedOrder,
) -> dict[str, Any]:
    address = request.shipping_address
    return {
        "id": placed.order_id,
        "status": OrderStatus.RECEIVED.value,
        "customer_subject": placed.owner,
        "customer_email": str(request.customer.email),
        "customer_name": request.customer.name,
        "guest_token_hash": hash_token(placed.token),
        "ship_line1": address.line1,
        "ship_line2": address.line2,
        "ship_city": address.city,
        # An address without its state reads oddly on a US label and in every mail.
        "ship_region": address.region
        or (us_state(address.postal_code) if address.country == "US" else None),
        "ship_postal_code": normalise_postal_code(address.country, address.postal_code),
        "ship_country": address.country,
        "ship_latitude": point.latitude,
        "ship_longitude": point.longitude,
        "delivery_method": request.delivery_method.value,
        "payment_method": request.payment_method,
        "currency": settings.currency,
        "subtotal": totals.subtotal,
        "delivery_cost": totals.delivery_cost,
        "total": totals.total,
        "eta": delivery_eta(now, settings.delivery_eta_days),
        "created_at": now,
        "updated_at": now,
    }
