"""Authorise, then capture: a payment that holds money on the card until its shipment takes it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BEFORE = ["pending", "succeeded", "failed", "refund_pending", "refunded", "refund_failed"]
# authorized: held on the card; capturing: a capture sent and not yet answered; voided: the
# authorisation was released without money taken.
AFTER = [*BEFORE, "authorized", "capturing", "voided"]
TIMESTAMP = sa.DateTime(timezone=True)


def _statuses(statuses: list[str]) -> None:
    op.drop_constraint(op.f("ck_payment_status_known"), "payment", type_="check")
    known = ", ".join(f"'{s}'" for s in statuses)
    op.create_check_constraint(op.f("ck_payment_status_known"), "payment", f"status IN ({known})")


def upgrade() -> None:
    op.add_column("payment", sa.Column("authorized_amount", sa.Integer(), nullable=True))
    op.add_column("payment", sa.Column("capture_before", TIMESTAMP, nullable=True))
    op.add_column("payment", sa.Column("captured_at", TIMESTAMP, nullable=True))
    op.add_column(
        "payment",
        sa.Column("capture_attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "payment",
        sa.Column("reauthorizations", sa.Integer(), nullable=False, server_default="0"),
    )
    # The renewal beat reads the authorisations that lapse soonest.
    op.create_index(
        op.f("ix_payment_capture_before"),
        "payment",
        ["capture_before"],
        postgresql_where=sa.text("status = 'authorized'"),
    )
    _statuses(AFTER)


def downgrade() -> None:
    # Without capture, an authorisation is a charge not yet taken: treat it as failed.
    op.execute(
        "UPDATE payment SET status = 'failed' WHERE status IN ('authorized', 'capturing', 'voided')"
    )
    _statuses(BEFORE)
    op.drop_index(op.f("ix_payment_capture_before"), table_name="payment")
    for column in (
        "reauthorizations",
        "capture_attempts",
        "captured_at",
        "capture_before",
        "authorized_amount",
    ):
        op.drop_column("payment", column)
