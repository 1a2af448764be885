"""Refunds on payments, and a CHECK on payment status

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATUSES = "'pending', 'succeeded', 'failed', 'refund_pending', 'refunded'"


def upgrade() -> None:
    op.add_column("payment", sa.Column("refund_id", sa.String(length=255), nullable=True))
    op.add_column("payment", sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_unique_constraint(op.f("uq_payment_refund_id"), "payment", ["refund_id"])
    op.create_check_constraint(
        op.f("ck_payment_status_known"), "payment", f"status IN ({STATUSES})"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_payment_status_known"), "payment", type_="check")
    op.drop_constraint(op.f("uq_payment_refund_id"), "payment", type_="unique")
    op.drop_column("payment", "refunded_at")
    op.drop_column("payment", "refund_id")
