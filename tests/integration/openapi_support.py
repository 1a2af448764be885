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
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Shipment
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse
from tests.integration.tracking_support import shipped_order
from tests.keyed_client import KeyedClient
from workers.adapters.sqs import OrdersQueue


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

    def path_values(self) -> dict[str, Any]:
        """A real value for each path parameter name the API uses."""
        return {
            "order_id": str(self.order_id),
            "shipment_id": self.shipment_id,
            "number": self.article_number,
            "code": self.warehouse_code,
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
    """A product in a warehouse near New York and an order of it, shipped."""
    sessions = context.work.sessions
    number = add_product(sessions)
    warehouse_id = add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={number: 50}
    )
    order_id = shipped_order(app.test_client(), context, [(number, 1)])
    with sessions() as session:
        shipment = session.scalars(select(Shipment).where(Shipment.order_id == order_id)).one()
        code = session.get_one(Warehouse, warehouse_id).code
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
    )


def routes_document() -> dict[str, Any]:
    """The document of the intake's routes, built without any service."""
    app = Flask("intake")
    register_routes(app)
    return build(app)
