"""POST/GET /admin/warehouses and PATCH /admin/warehouses/<code>."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import select

from intake.admin.api_models import WarehouseOut, Warehouses
from intake.admin.schemas import WarehouseCode, WarehouseIn, WarehousePatch
from intake.admin.views import warehouse_view
from intake.bodies import validated
from intake.openapi import STAFF, operation
from intake.runtime import runtime
from models.services.catalogue import create_warehouse, update_warehouse
from models.tables.catalog import Warehouse

bp = Blueprint("warehouses", __name__)


@bp.post("/warehouses")
@operation(body=WarehouseIn, replies={201: WarehouseOut}, problems=(409, 415, 422, 429), auth=STAFF)
def add_warehouse() -> tuple[Response, int]:
    """Open a new warehouse."""
    body = validated(WarehouseIn)
    with runtime().sessions() as session, session.begin():
        warehouse = create_warehouse(session, **body.model_dump())
        return jsonify(warehouse_view(warehouse)), 201


@bp.get("/warehouses")
@operation(replies={200: Warehouses}, problems=(429,), auth=STAFF)
def list_warehouses() -> Response:
    """Every warehouse, active or not, by code."""
    with runtime().sessions() as session:
        warehouses = session.scalars(select(Warehouse).order_by(Warehouse.code)).all()
        return jsonify({"warehouses": [warehouse_view(w) for w in warehouses]})


@bp.patch("/warehouses/<code>")
@operation(
    body=WarehousePatch,
    replies={200: WarehouseOut},
    problems=(415, 422, 429),
    auth=STAFF,
    path={"code": WarehouseCode},
)
def change_warehouse(code: str) -> Response:
    """Rename a warehouse, correct its country, open or close it, allow or stop self-service,
    give it the street address, city and opening hours pickup customers see."""
    body = validated(WarehousePatch)
    with runtime().sessions() as session, session.begin():
        warehouse = update_warehouse(session, code=code, **body.model_dump())
        return jsonify(warehouse_view(warehouse))
