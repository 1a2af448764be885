"""Placing a guest order: checked, located, priced, recorded with its message in one transaction."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.geo import Point
from models.domain.lifecycle import DeliveryMethod, OrderStatus
from models.domain.messages import OrderPlaced
from models.domain.pricing import PricedLine, Totals, delivery_eta, order_totals
from models.store.follow_ups import send
from models.store.geodata import locate, normalise_postal_code
from models.tables.catalog import Product
from models.tables.orders import Order, OrderEvent, OrderLine
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
    """What the client is told about an order it just placed."""

    order_id: uuid.UUID
    token: str


def hash_token(token: str) -> str:
    """The stored form of a guest order token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _price_lines(session: Session, request: OrderDraft, currency: str) -> list[PricedLine]:
    wanted = [line.article_number for line in request.lines]
    products = {
        p.article_number: p
        for p in session.scalars(select(Product).where(Product.article_number.in_(wanted)))
    }
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
        PricedLine(line.article_number, line.quantity, products[line.article_number].price)
        for line in request.lines
    ]


def _locate(session: Session, request: OrderDraft) -> Point:
    address = request.shipping_address
    point = locate(session, address.country, address.postal_code)
    if point is None:
        reason = f"cannot be located in {address.country}"
        raise InvalidOrder([{"field": "shipping_address.postal_code", "reason": reason}])
    return point


def place_order(
    session: Session, request: OrderDraft, settings: Settings, now: datetime
) -> PlacedOrder:
    """Record the order, its lines, its first event and its outbox message in `session`."""
    lines = _price_lines(session, request, settings.currency)
    point = _locate(session, request)
    totals = order_totals(lines, request.delivery_method.value, settings.delivery_costs())
    token = secrets.token_urlsafe(24)
    order = _order(request, point, totals, settings, now, token_hash=hash_token(token))
    order.lines = [
        OrderLine(
            line_no=i,
            article_number=line.article_number,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for i, line in enumerate(lines, start=1)
    ]
    session.add(order)
    session.add(
        OrderEvent(
            order_id=order.id,
            kind="received",
            to_status=OrderStatus.RECEIVED.value,
            detail={"total": totals.total, "currency": settings.currency},
            created_at=now,
        )
    )
    session.flush()
    send(session, OrderPlaced(order.id, now).to_json(), subject=order.id)
    return PlacedOrder(order.id, token)


def _order(
    request: OrderDraft,
    point: Point,
    totals: Totals,
    settings: Settings,
    now: datetime,
    *,
    token_hash: str,
) -> Order:
    address = request.shipping_address
    return Order(
        id=uuid.uuid4(),
        status=OrderStatus.RECEIVED.value,
        customer_email=str(request.customer.email),
        customer_name=request.customer.name,
        guest_token_hash=token_hash,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_region=address.region,
        ship_postal_code=normalise_postal_code(address.country, address.postal_code),
        ship_country=address.country,
        ship_latitude=point.latitude,
        ship_longitude=point.longitude,
        delivery_method=request.delivery_method.value,
        payment_method=request.payment_method,
        currency=settings.currency,
        subtotal=totals.subtotal,
        delivery_cost=totals.delivery_cost,
        total=totals.total,
        eta=delivery_eta(now, settings.delivery_eta_days),
        created_at=now,
        updated_at=now,
    )
