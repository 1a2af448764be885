"""Stock movements and low-stock alerts, backordered orders, one receipt per planning

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES_BEFORE = (
    "'received', 'allocated', 'paid', 'shipped', 'delivered', 'rejected', "
    "'payment_failed', 'cancelled'"
)
STATUSES_AFTER = STATUSES_BEFORE.replace("'received', ", "'received', 'backordered', ")


def _stock_reference(table: str) -> list[sa.Column[int] | sa.Column[str]]:
    return [
        sa.Column(
            "warehouse_id",
            sa.Integer(),
            sa.ForeignKey("warehouse.id", name=f"fk_{table}_warehouse_id_warehouse"),
            nullable=False,
        ),
        sa.Column(
            "article_number",
            sa.String(length=10),
            sa.ForeignKey("product.article_number", name=f"fk_{table}_article_number_product"),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    op.drop_constraint(op.f("ck_order_status_known"), "order", type_="check")
    op.create_check_constraint(
        op.f("ck_order_status_known"), "order", f"status IN ({STATUSES_AFTER})"
    )

    op.add_column("stock", sa.Column("low_stock_threshold", sa.Integer(), nullable=True))
    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        *_stock_reference("stock_movement"),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.Column("on_hand_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    op.create_index(
        op.f("ix_stock_movement_stock"), "stock_movement", ["warehouse_id", "article_number", "id"]
    )
    op.create_table(
        "stock_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        *_stock_reference("stock_alert"),
        sa.Column("sellable", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_alert")),
    )
    op.create_index(
        op.f("uq_stock_alert_open"),
        "stock_alert",
        ["warehouse_id", "article_number"],
        unique=True,
        postgresql_where=sa.text("cleared_at IS NULL"),
    )

    # A receipt per planning instead of per order: keyed by its own id from now on.
    op.drop_constraint(op.f("pk_allocation_receipt"), "allocation_receipt", type_="primary")
    op.add_column(
        "allocation_receipt", sa.Column("id", sa.Integer(), sa.Identity(), nullable=False)
    )
    op.create_primary_key(op.f("pk_allocation_receipt"), "allocation_receipt", ["id"])
    op.create_index(op.f("ix_allocation_receipt_order_id"), "allocation_receipt", ["order_id"])
    op.add_column(
        "allocation_receipt",
        sa.Column("outcome", sa.String(length=20), nullable=False, server_default="single"),
    )
    op.alter_column("allocation_receipt", "outcome", server_default=None)
    op.add_column(
        "allocation_receipt",
        sa.Column(
            "picks",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    op.alter_column("allocation_receipt", "picks", server_default=None)
    op.alter_column(
        "allocation_receipt", "reason", type_=sa.String(length=500), existing_nullable=False
    )


def downgrade() -> None:
    op.alter_column(
        "allocation_receipt", "reason", type_=sa.String(length=200), existing_nullable=False
    )
    op.drop_column("allocation_receipt", "picks")
    op.drop_column("allocation_receipt", "outcome")
    op.drop_index(op.f("ix_allocation_receipt_order_id"), table_name="allocation_receipt")
    op.drop_constraint(op.f("pk_allocation_receipt"), "allocation_receipt", type_="primary")
    # Keep the newest receipt of each order so order_id can be the key again.
    op.execute(
        "DELETE FROM allocation_receipt a USING allocation_receipt b "
        "WHERE a.order_id = b.order_id AND a.id < b.id"
    )
    op.drop_column("allocation_receipt", "id")
    op.create_primary_key(op.f("pk_allocation_receipt"), "allocation_receipt", ["order_id"])
    op.drop_index(op.f("uq_stock_alert_open"), table_name="stock_alert")
    op.drop_table("stock_alert")
    op.drop_index(op.f("ix_stock_movement_stock"), table_name="stock_movement")
    op.drop_table("stock_movement")
    op.drop_column("stock", "low_stock_threshold")
    op.execute("UPDATE \"order\" SET status = 'received' WHERE status = 'backordered'")
    op.drop_constraint(op.f("ck_order_status_known"), "order", type_="check")
    op.create_check_constraint(
        op.f("ck_order_status_known"), "order", f"status IN ({STATUSES_BEFORE})"
    )
