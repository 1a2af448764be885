"""Orders that change after they are placed: cancelled and returned units per line, refunds of
part of a payment, returns with RMA numbers, quarantined stock, and parts of a partially
fulfilled order (each with its own allocations, payment and shipments)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BEFORE = [
    "received",
    "backordered",
    "allocated",
    "paid",
    "shipped",
    "delivered",
    "ready_for_pickup",
    "collected",
    "rejected",
    "payment_failed",
    "cancelled",
]
AFTER = [*BEFORE[:4], "partially_shipped", *BEFORE[4:]]
TIMESTAMP = sa.DateTime(timezone=True)


def _statuses(statuses: list[str]) -> None:
    op.drop_constraint(op.f("ck_order_status_known"), "order", type_="check")
    known = ", ".join(f"'{s}'" for s in statuses)
    op.create_check_constraint(op.f("ck_order_status_known"), "order", f"status IN ({known})")


def _lines_and_stock() -> None:
    op.add_column(
        "order_line",
        sa.Column("cancelled_quantity", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "order_line",
        sa.Column("returned_quantity", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_order_line_changes_within_quantity"),
        "order_line",
        "cancelled_quantity >= 0 AND returned_quantity >= 0 "
        "AND cancelled_quantity + returned_quantity <= quantity",
    )
    op.add_column(
        "stock", sa.Column("quarantined", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_stock_quarantined_not_negative"), "stock", "quarantined >= 0"
    )


def _parts() -> None:
    op.add_column("payment", sa.Column("part", sa.Integer(), server_default="1", nullable=False))
    op.drop_constraint(op.f("uq_payment_order_id"), "payment", type_="unique")
    op.create_index(op.f("ix_payment_order_id"), "payment", ["order_id"])
    op.create_unique_constraint(op.f("uq_payment_order_id_part"), "payment", ["order_id", "part"])
    op.add_column("allocation", sa.Column("part", sa.Integer(), server_default="1", nullable=False))
    op.drop_constraint(
        op.f("uq_allocation_order_line_id_warehouse_id"), "allocation", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_allocation_order_line_id_warehouse_id_part"),
        "allocation",
        ["order_line_id", "warehouse_id", "part"],
    )
    op.add_column("shipment", sa.Column("part", sa.Integer(), server_default="1", nullable=False))
    op.drop_constraint(op.f("uq_shipment_order_id_warehouse_id"), "shipment", type_="unique")
    op.create_unique_constraint(
        op.f("uq_shipment_order_id_warehouse_id_part"),
        "shipment",
        ["order_id", "warehouse_id", "part"],
    )


def _returns() -> None:
    op.create_table(
        "order_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("rma_number", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=20), nullable=True),
        sa.Column("tracking_number", sa.String(length=40), nullable=True),
        sa.Column("tracking_url", sa.String(length=300), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=True),
        sa.Column("received_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'received', 'partially_received', 'refused')",
            name=op.f("ck_order_return_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["order.id"], name=op.f("fk_order_return_order_id_order")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouse.id"], name=op.f("fk_order_return_warehouse_id_warehouse")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_return")),
        sa.UniqueConstraint("rma_number", name=op.f("uq_order_return_rma_number")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_order_return_tracking_number")),
    )
    op.create_index(op.f("ix_order_return_order_id"), "order_return", ["order_id"])
    op.create_table(
        "return_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=False),
        sa.Column("accepted_quantity", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_line_quantity_positive")),
        sa.CheckConstraint(
            "received_quantity BETWEEN 0 AND quantity AND accepted_quantity BETWEEN 0 AND "
            "received_quantity",
            name=op.f("ck_return_line_received_within_asked"),
        ),
        sa.CheckConstraint(
            "disposition IS NULL OR disposition IN ('restock', 'quarantine')",
            name=op.f("ck_return_line_disposition_known"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["order_return.id"], name=op.f("fk_return_line_return_id_order_return")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_return_line_order_line_id_order_line"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_line")),
        sa.UniqueConstraint(
            "return_id", "order_line_id", name=op.f("uq_return_line_return_id_order_line_id")
        ),
    )
    op.create_index(op.f("ix_return_line_return_id"), "return_line", ["return_id"])


def _refunds() -> None:
    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("gateway_refund_id", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failure_message", sa.String(length=500), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("refunded_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refund_amount_positive")),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed')", name=op.f("ck_refund_status_known")
        ),
        sa.CheckConstraint("kind IN ('line_cancel', 'return')", name=op.f("ck_refund_kind_known")),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_refund_order_id_order")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name=op.f("fk_refund_payment_id_payment")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["order_return.id"], name=op.f("fk_refund_return_id_order_return")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
        sa.UniqueConstraint("gateway_refund_id", name=op.f("uq_refund_gateway_refund_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_refund_idempotency_key")),
    )
    for column in ("order_id", "payment_id", "return_id"):
        op.create_index(op.f(f"ix_refund_{column}"), "refund", [column])
    op.create_table(
        "refund_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_refund_line_quantity_not_negative")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_refund_line_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refund.id"], name=op.f("fk_refund_line_refund_id_refund")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_refund_line_order_line_id_order_line"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_line")),
    )
    op.create_index(op.f("ix_refund_line_refund_id"), "refund_line", ["refund_id"])
    op.create_index(op.f("ix_refund_line_order_line_id"), "refund_line", ["order_line_id"])


def upgrade() -> None:
    _statuses(AFTER)
    _lines_and_stock()
    _parts()
    _returns()
    _refunds()


def downgrade() -> None:
    for table in ("refund_line", "refund", "return_line", "order_return"):
        op.drop_table(table)
    op.execute("UPDATE \"order\" SET status = 'shipped' WHERE status = 'partially_shipped'")
    _statuses(BEFORE)
    op.drop_constraint(op.f("uq_shipment_order_id_warehouse_id_part"), "shipment", type_="unique")
    op.create_unique_constraint(
        op.f("uq_shipment_order_id_warehouse_id"), "shipment", ["order_id", "warehouse_id"]
    )
    op.drop_column("shipment", "part")
    op.drop_constraint(
        op.f("uq_allocation_order_line_id_warehouse_id_part"), "allocation", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_allocation_order_line_id_warehouse_id"),
        "allocation",
        ["order_line_id", "warehouse_id"],
    )
    op.drop_column("allocation", "part")
    op.drop_constraint(op.f("uq_payment_order_id_part"), "payment", type_="unique")
    op.drop_index(op.f("ix_payment_order_id"), table_name="payment")
    op.create_unique_constraint(op.f("uq_payment_order_id"), "payment", ["order_id"])
    op.drop_column("payment", "part")
    for table, column in (("stock", "quarantined"), ("order_line", "returned_quantity")):
        op.drop_column(table, column)
    op.drop_column("order_line", "cancelled_quantity")
