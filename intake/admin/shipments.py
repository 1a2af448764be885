"""GET /admin/shipments/<id>/label.pdf: the parcel's label, drawn from what is stored."""

from __future__ import annotations

from typing import Annotated

from flask import Blueprint, Response
from pydantic import Field
from sqlalchemy import select

from intake.openapi import STAFF, Content, operation
from intake.problems import Problem
from intake.runtime import runtime
from models.tables.catalog import Product, Warehouse
from models.tables.fulfilment import Allocation, Shipment
from models.tables.orders import Order
from workers.adapters.label_pdf import render_label

bp = Blueprint("shipments", __name__)

# Shipment ids are PostgreSQL integers: a larger number names none (and the query failed).
MAX_ID = 2**31 - 1
ShipmentId = Annotated[int, Field(ge=0, le=MAX_ID)]


@bp.get(f"/shipments/<int(max={MAX_ID}):shipment_id>/label.pdf")
@operation(
    replies={200: Content("application/pdf", {"type": "string", "format": "binary"})},
    problems=(429,),
    auth=STAFF,
    path={"shipment_id": ShipmentId},
)
def label(shipment_id: int) -> Response:
    """A 4x6 inch PDF label for the shipment."""
    with runtime().sessions() as session:
        shipment = session.get(Shipment, shipment_id)
        if shipment is None:
            raise Problem(404, "Shipment not found")
        order = session.get(Order, shipment.order_id)
        warehouse = session.get(Warehouse, shipment.warehouse_id)
        assert order is not None
        assert warehouse is not None
        contents = session.execute(
            select(Allocation.quantity, Product.name, Product.article_number)
            .join(Product, Product.article_number == Allocation.article_number)
            .where(Allocation.order_id == order.id, Allocation.warehouse_id == warehouse.id)
            .order_by(Product.article_number)
        ).all()
        pdf = render_label(
            tracking_number=shipment.tracking_number,
            carrier=shipment.carrier,
            ship_from=[warehouse.name, f"{warehouse.postal_code} {warehouse.country}"],
            ship_to=[
                order.customer_name,
                order.ship_line1,
                *([order.ship_line2] if order.ship_line2 else []),
                f"{order.ship_postal_code} {order.ship_city}",
                order.ship_country,
            ],
            order_id=str(order.id),
            lines=[f"{q} x {name} ({number})" for q, name, number in contents],
        )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="label-{shipment.tracking_number}.pdf"'
    )
    return response
