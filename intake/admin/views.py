"""What the admin API answers with: plain JSON views of warehouses, products and stock."""

from __future__ import annotations

from typing import Any

from models.tables.catalog import Product, Stock, StockMovement, Warehouse


def warehouse_view(warehouse: Warehouse) -> dict[str, Any]:
    """A warehouse as JSON."""
    return {
        "code": warehouse.code,
        "name": warehouse.name,
        "country": warehouse.country,
        "postal_code": warehouse.postal_code,
        "address_line1": warehouse.address_line1,
        "city": warehouse.city,
        "opening_hours": warehouse.opening_hours,
        "latitude": warehouse.latitude,
        "longitude": warehouse.longitude,
        "active": warehouse.active,
        "allows_self_service": warehouse.allows_self_service,
    }


def product_view(product: Product) -> dict[str, Any]:
    """A product as JSON."""
    return {
        "article_number": product.article_number,
        "name": product.name,
        "price": product.price,
        "currency": product.currency,
    }


def stock_view(stock: Stock, warehouse_code: str, default_threshold: int) -> dict[str, Any]:
    """A stock row as JSON, with the threshold that applies to it."""
    return {
        "warehouse": warehouse_code,
        "article_number": stock.article_number,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "sellable": stock.on_hand - stock.reserved,
        "low_stock_threshold": stock.low_stock_threshold,
        "effective_threshold": (
            default_threshold if stock.low_stock_threshold is None else stock.low_stock_threshold
        ),
    }


def movement_view(movement: StockMovement) -> dict[str, Any]:
    """A stock movement as JSON."""
    return {
        "id": movement.id,
        "change": movement.change,
        "on_hand_after": movement.on_hand_after,
        "reason": movement.reason,
        "actor": movement.actor,
        "at": movement.created_at.isoformat(),
    }
