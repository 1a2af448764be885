"""PUT and GET /admin/products/<article_number>."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from intake.admin.api_models import ProductOut, ProductWithStock
from intake.admin.http import article_number
from intake.admin.schemas import ArticleNumber, ProductIn
from intake.admin.views import product_view, stock_view
from intake.bodies import validated
from intake.openapi import STAFF, Reply, operation
from intake.problems import Problem
from intake.runtime import runtime
from models.services.catalogue import upsert_product
from models.tables.catalog import Product, Stock, Warehouse

bp = Blueprint("products", __name__)


@bp.put("/products/<number>")
@operation(
    body=ProductIn,
    replies={200: ProductOut, 201: Reply(ProductOut, description="Created")},
    problems=(415, 422, 429),
    auth=STAFF,
    path={"number": ArticleNumber},
)
def put_product(number: str) -> tuple[Response, int]:
    """Create the product, or change its name and price."""
    number = article_number(number)
    body = validated(ProductIn)
    rt = runtime()
    with rt.sessions() as session, session.begin():
        product, created = upsert_product(
            session,
            article_number=number,
            name=body.name,
            price=body.price,
            currency=body.currency or rt.settings.currency,
        )
        return jsonify(product_view(product)), 201 if created else 200


@bp.get("/products/<number>")
@operation(
    replies={200: ProductWithStock}, problems=(422, 429), auth=STAFF, path={"number": ArticleNumber}
)
def get_product(number: str) -> Response:
    """The product with its stock in every warehouse that has a row for it."""
    number = article_number(number)
    rt = runtime()
    with rt.sessions() as session:
        product = session.get(Product, number)
        if product is None:
            raise Problem(404, "Product not found")
        rows = session.execute(
            select(Stock, Warehouse.code)
            .join(Warehouse, Warehouse.id == Stock.warehouse_id)
            .where(Stock.article_number == number)
            .order_by(Warehouse.code)
        )
        stock = [stock_view(s, code, rt.settings.low_stock_threshold) for s, code in rows]
        return jsonify({**product_view(product), "stock": stock})
