"""Shipment ETA and delivery times, and the carrier events that move them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES = "'label_created', 'in_transit', 'delivered'"


def upgrade() -> None:
    op.add_column("shipment", sa.Column("eta", sa.Date(), nullable=True))
    op.add_column("shipment", sa.Column("in_transit_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("shipment", sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    # Shipments made before this revision promised what their order promised.
    op.execute('UPDATE shipment SET eta = o.eta FROM "order" o WHERE o.id = shipment.order_id')
    op.create_check_constraint(
        op.f("ck_shipment_status_known"), "shipment", f"status IN ({STATUSES})"
    )
    op.create_table(
        "carrier_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column(
            "shipment_id",
            sa.Integer(),
            sa.ForeignKey("shipment.id", name=op.f("fk_carrier_event_shipment_id_shipment")),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_carrier_event_event_id")),
    )
    op.create_index(op.f("ix_carrier_event_shipment_id"), "carrier_event", ["shipment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_carrier_event_shipment_id"), table_name="carrier_event")
    op.drop_table("carrier_event")
    op.drop_constraint(op.f("ck_shipment_status_known"), "shipment", type_="check")
    op.drop_column("shipment", "delivered_at")
    op.drop_column("shipment", "in_transit_at")
    op.drop_column("shipment", "eta")
