"""Pickup: warehouses with a street address and opening hours, orders ready for pickup and
collected, and until when a ready order is held

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BEFORE = [
    "received",
    "backordered",
    "allocated",
    "paid",
    "shipped",
    "delivered",
    "rejected",
    "payment_failed",
    "cancelled",
]
AFTER = [*BEFORE[:6], "ready_for_pickup", "collected", *BEFORE[6:]]


def _statuses(statuses: list[str]) -> None:
    op.drop_constraint(op.f("ck_order_status_known"), "order", type_="check")
    known = ", ".join(f"'{s}'" for s in statuses)
    op.create_check_constraint(op.f("ck_order_status_known"), "order", f"status IN ({known})")


def upgrade() -> None:
    # Warehouses made before this revision have no address yet: an admin gives them one.
    op.add_column("warehouse", sa.Column("address_line1", sa.String(length=200), nullable=True))
    op.add_column("warehouse", sa.Column("city", sa.String(length=100), nullable=True))
    op.add_column("warehouse", sa.Column("opening_hours", sa.String(length=200), nullable=True))
    op.add_column("order", sa.Column("pickup_ready_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "order", sa.Column("pickup_hold_until", sa.DateTime(timezone=True), nullable=True)
    )
    _statuses(AFTER)


def downgrade() -> None:
    # Without the pickup statuses a ready order is paid again and a collected one delivered.
    op.execute("UPDATE \"order\" SET status = 'paid' WHERE status = 'ready_for_pickup'")
    op.execute("UPDATE \"order\" SET status = 'delivered' WHERE status = 'collected'")
    _statuses(BEFORE)
    op.drop_column("order", "pickup_hold_until")
    op.drop_column("order", "pickup_ready_at")
    op.drop_column("warehouse", "opening_hours")
    op.drop_column("warehouse", "city")
    op.drop_column("warehouse", "address_line1")
