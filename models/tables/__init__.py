"""Every table, importable from one place."""

from models.tables.base import Base
from models.tables.catalog import PostalCode, Product, Stock, StockAlert, StockMovement, Warehouse
from models.tables.fulfilment import (
    Allocation,
    AllocationReceipt,
    CarrierEvent,
    Notification,
    Payment,
    Shipment,
)
from models.tables.idempotency import IdempotencyKey
from models.tables.money import Refund, RefundLine
from models.tables.operations import PausedQueue
from models.tables.orders import Order, OrderEvent, OrderLine
from models.tables.outbox import Outbox
from models.tables.returns import OrderReturn, ReturnLine
from models.tables.tokens import RevokedToken
from models.tables.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

__all__ = [
    "Allocation",
    "AllocationReceipt",
    "Base",
    "CarrierEvent",
    "IdempotencyKey",
    "Notification",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderReturn",
    "Outbox",
    "PausedQueue",
    "Payment",
    "PostalCode",
    "Product",
    "Refund",
    "RefundLine",
    "ReturnLine",
    "RevokedToken",
    "Shipment",
    "Stock",
    "StockAlert",
    "StockMovement",
    "Warehouse",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
]
