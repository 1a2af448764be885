"""The admin API under /admin: warehouses, products, stock, orders and webhook subscriptions,
for admin tokens only."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from intake.admin import orders, products, shipments, stock, warehouses, webhooks
from intake.admin.http import problem
from intake.auth import require_admin
from models.services.inventory_errors import InventoryError


def _refused(error: InventoryError) -> Response:
    return problem(error).to_response()


def register_admin(app: Flask) -> None:
    """Mount the admin API on the app, behind the admin token check."""
    admin = Blueprint("admin", __name__, url_prefix="/admin")
    admin.before_request(require_admin)
    admin.register_error_handler(InventoryError, _refused)
    for child in (warehouses.bp, products.bp, stock.bp, orders.bp, shipments.bp, webhooks.bp):
        admin.register_blueprint(child)
    app.register_blueprint(admin)
