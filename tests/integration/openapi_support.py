"""The intake on a database and queue of its own, with one shipped order to read, for the
OpenAPI tests: whatever schemathesis creates there stays out of the other tests' way."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select

from bootstrap import Context, build_context
from devstack.postgres import fresh_database
from intake import create_app, register_routes
from intake.auth import CUSTOMER, issue_admin_token
from intake.openapi.document import build
from intake.signatures import sign
from models.services.place import order_token
from models.services.webhook_admin import create_subscription
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Shipment
from models.tables.webhooks import WebhookDelivery
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse
from tests.integration.hold_support import allocated
from tests.integration.tracking_support import shipped_order
from tests.keyed_client import KeyedClient
from workers.adapters.sqs import OrdersQueue

# Where the subscription points: nothing listens there, and no delivery is run.
HOOK_URL = "http://127.0.0.1:9/hooks"


@dataclass(frozen=True)
class Known:
    """Things that exist in the app's database, and the credentials that open them."""

    order_id: uuid.UUID
    order_token: str
    shipment_id: int
    tracking_number: str
    article_number: str
    warehouse_code: str
    staff_token: str
    customer_token: str
    metrics_token: str
    webhook_secret: str
    held_order_id: uuid.UUID
    subscription_id: int
    delivery_id: int

    def path_values(self, path: str = "") -> dict[str, Any]:
        """A real value for each path parameter name the API uses at `path`: a hold's is an
        allocated order's (a shipped one can only be refused)."""
        order_id = self.held_order_id if "/hold" in path else self.order_id
        return {
            "order_id": str(order_id),
            "shipment_id": self.shipment_id,
            "number": self.article_number,
            "code": self.warehouse_code,
            "subscription_id": self.subscription_id,
            "delivery_id": self.delivery_id,
        }

    def bearer(self, scheme: str) -> str | None:
        """The Authorization header value for a security scheme of the document."""
        token = {
            "orderToken": self.order_token,
            "staffToken": self.staff_token,
            "customerToken": self.customer_token,
            "metricsToken": self.metrics_token,
        }.get(scheme)
        return f"Bearer {token}" if token else None

    def signed(self, body: Any) -> tuple[bytes, str]:
        """A body as bytes (JSON unless it is bytes) and the Carrier-Signature signing it now."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return raw, sign(self.webhook_secret, raw, int(time.time()))


@contextlib.contextmanager
def own_intake(settings: Settings) -> Iterator[tuple[Flask, Context]]:
    """The intake app on a fresh database and SQS queues of its own."""
    run = uuid.uuid4().hex[:8]
    with fresh_database(settings.require_database_url()) as url:
        own = settings.model_copy(
            update={
                "database_url": url,
                "orders_queue": f"openapi-{run}",
                "orders_dlq": f"openapi-dlq-{run}",
            }
        )
        OrdersQueue.from_settings(own, timeout=5).ensure(
            max_receive_count=own.sqs_max_receive_count,
            visibility_timeout=own.sqs_visibility_timeout,
        )
        context = build_context(own)
        app = create_app(own, context)
        app.test_client_class = KeyedClient
        yield app, context


def known_things(app: Flask, context: Context) -> Known:
    """A product in a warehouse near New York, an order of it shipped and one allocated, and
    a webhook subscription with the deliveries of their events (never sent: nothing runs)."""
    sessions = context.work.sessions
    number = add_product(sessions)
    warehouse_id = add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={number: 50}
    )
    with context.work() as session:
        subscription = create_subscription(session, url=HOOK_URL, event_types=[], secret=None)
        subscription_id = subscription.id
    order_id = shipped_order(app.test_client(), context, [(number, 1)])
    held_order_id = allocated(app.test_client(), context, number)
    with sessions() as session:
        shipment = session.scalars(select(Shipment).where(Shipment.order_id == order_id)).one()
        code = session.get_one(Warehouse, warehouse_id).code
        delivery_id = session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.order_id == order_id).limit(1)
        ).one()
    settings = context.settings
    return Known(
        order_id=order_id,
        order_token=order_token(settings.order_token_secret.get_secret_value(), order_id),
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number,
        article_number=number,
        warehouse_code=code,
        staff_token=issue_admin_token(settings, "openapi-conformance"),
        customer_token=issue_admin_token(settings, "openapi-customer", roles=[CUSTOMER]),
        metrics_token=settings.metrics_token.get_secret_value(),
        webhook_secret=settings.carrier_webhook_secret.get_secret_value(),
        held_order_id=held_order_id,
        subscription_id=subscription_id,
        delivery_id=delivery_id,
    )


def routes_document() -> dict[str, Any]:
    """The document of the intake's routes, built without any service."""
    app = Flask("intake")
    register_routes(app)
    return build(app)
