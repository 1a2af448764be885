"""Reading the catalogue."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables.catalog import Product
from models.tables.orders import Order


def product_names(session: Session, order: Order) -> dict[str, str]:
    """The name of each product on the order, by article number."""
    numbers = [line.article_number for line in order.lines]
    rows = session.execute(
        select(Product.article_number, Product.name).where(Product.article_number.in_(numbers))
    )
    return dict(rows.all())
