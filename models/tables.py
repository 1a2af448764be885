"""Every table, importable from one place."""

from models.base import Base
from models.catalog import PostalCode, Product, Stock, StockAlert, StockMovement, Warehouse
from models.fulfilment import (
    Allocation,
    AllocationReceipt,
    CarrierEvent,
    Notification,
    Payment,
    Shipment,
)
from models.infra import IdempotencyKey, Outbox
from models.orders import Order, OrderEvent, OrderLine

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
    "Outbox",
    "Payment",
    "PostalCode",
    "Product",
    "Shipment",
    "Stock",
    "StockAlert",
    "StockMovement",
    "Warehouse",
]
