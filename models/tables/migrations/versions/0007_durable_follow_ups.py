"""Durable follow-ups: every message and task an outbox row until done; claims for mail

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_PAYMENT = "'pending', 'succeeded', 'failed', 'refund_pending', 'refunded'"
NEW_PAYMENT = f"{OLD_PAYMENT}, 'refund_failed'"
NOTIFICATION = "'pending', 'sending', 'sent', 'rejected', 'failed'"
PENDING = sa.text("done_at IS NULL AND failed_at IS NULL")


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column(
            "due_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.add_column("outbox", _timestamp("done_at"))
    op.add_column("outbox", _timestamp("failed_at"))
    op.add_column("outbox", sa.Column("dedupe_key", sa.String(length=200), nullable=True))
    # Rows published before this revision were done the moment SQS took them.
    op.execute("UPDATE outbox SET done_at = published_at, due_at = created_at")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["due_at"], postgresql_where=PENDING)
    op.create_index(
        "uq_outbox_pending_dedupe_key",
        "outbox",
        ["dedupe_key"],
        unique=True,
        postgresql_where=PENDING,
    )

    op.add_column(
        "payment", sa.Column("refund_attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.drop_constraint(op.f("ck_payment_status_known"), "payment", type_="check")
    op.create_check_constraint(
        op.f("ck_payment_status_known"), "payment", f"status IN ({NEW_PAYMENT})"
    )

    op.add_column("notification", _timestamp("claimed_at"))
    op.create_check_constraint(
        op.f("ck_notification_status_known"), "notification", f"status IN ({NOTIFICATION})"
    )

    op.add_column(
        "stock_alert", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("stock_alert", _timestamp("claimed_at"))
    op.add_column("stock_alert", _timestamp("failed_at"))
    op.add_column("stock_alert", sa.Column("last_error", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("stock_alert", "last_error")
    op.drop_column("stock_alert", "failed_at")
    op.drop_column("stock_alert", "claimed_at")
    op.drop_column("stock_alert", "attempts")

    op.drop_constraint(op.f("ck_notification_status_known"), "notification", type_="check")
    op.drop_column("notification", "claimed_at")

    op.drop_constraint(op.f("ck_payment_status_known"), "payment", type_="check")
    op.execute("UPDATE payment SET status = 'refund_pending' WHERE status = 'refund_failed'")
    op.create_check_constraint(
        op.f("ck_payment_status_known"), "payment", f"status IN ({OLD_PAYMENT})"
    )
    op.drop_column("payment", "refund_attempts")

    op.drop_index("uq_outbox_pending_dedupe_key", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.execute("UPDATE outbox SET published_at = done_at WHERE done_at IS NOT NULL")
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_column("outbox", "dedupe_key")
    op.drop_column("outbox", "failed_at")
    op.drop_column("outbox", "done_at")
    op.drop_column("outbox", "due_at")
