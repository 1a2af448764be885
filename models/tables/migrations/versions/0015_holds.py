"""Holds: an order held for review before it is charged, why, since when and until when it
keeps its stock

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

BEFORE = [
    "received",
    "backordered",
    "allocated",
    "paid",
    "partially_shipped",
    "shipped",
    "delivered",
    "ready_for_pickup",
    "collected",
    "rejected",
    "payment_failed",
    "cancelled",
]
AFTER = [*BEFORE[:3], "on_hold", *BEFORE[3:]]
TIMESTAMP = sa.DateTime(timezone=True)


def _statuses(statuses: list[str]) -> None:
    op.drop_constraint(op.f("ck_order_status_known"), "order", type_="check")
    known = ", ".join(f"'{s}'" for s in statuses)
    op.create_check_constraint(op.f("ck_order_status_known"), "order", f"status IN ({known})")


def upgrade() -> None:
    op.add_column("order", sa.Column("hold_reason", sa.String(length=40), nullable=True))
    op.add_column("order", sa.Column("hold_note", sa.String(length=300), nullable=True))
    op.add_column("order", sa.Column("held_at", TIMESTAMP, nullable=True))
    op.add_column("order", sa.Column("hold_until", TIMESTAMP, nullable=True))
    op.create_index(
        op.f("ix_order_hold_until"),
        "order",
        ["hold_until"],
        postgresql_where=sa.text("status = 'on_hold'"),
    )
    # The rule on orders per email in an hour counts them through this.
    op.create_index(
        op.f("ix_order_customer_email_created_at"), "order", ["customer_email", "created_at"]
    )
    _statuses(AFTER)


def downgrade() -> None:
    # Without the hold an order held for review is cancelled: it was never charged.
    op.execute("UPDATE \"order\" SET status = 'cancelled' WHERE status = 'on_hold'")
    _statuses(BEFORE)
    op.drop_index(op.f("ix_order_hold_until"), table_name="order")
    op.drop_index(op.f("ix_order_customer_email_created_at"), table_name="order")
    for column in ("hold_until", "held_at", "hold_note", "hold_reason"):
        op.drop_column("order", column)
