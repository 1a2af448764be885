"""Orders owned by a customer account; Idempotency-Keys scoped to the client that sent them

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("order", sa.Column("customer_subject", sa.String(length=100), nullable=True))
    op.create_index(
        "ix_order_customer_subject_created_at",
        "order",
        ["customer_subject", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("customer_subject IS NOT NULL"),
    )
    op.create_index("ix_order_created_at_id", "order", ["created_at", "id"], unique=False)
    # A guest's scope is the body it sent: the keys stored so far were all guests'.
    op.add_column("idempotency_key", sa.Column("scope", sa.String(length=120), nullable=True))
    op.execute("UPDATE idempotency_key SET scope = 'guest:' || fingerprint")
    op.alter_column("idempotency_key", "scope", nullable=False)
    op.drop_constraint("pk_idempotency_key", "idempotency_key", type_="primary")
    op.create_primary_key("pk_idempotency_key", "idempotency_key", ["scope", "key"])


def downgrade() -> None:
    op.drop_constraint("pk_idempotency_key", "idempotency_key", type_="primary")
    op.execute(
        "DELETE FROM idempotency_key a USING idempotency_key b"
        " WHERE a.key = b.key AND a.created_at < b.created_at"
    )
    op.create_primary_key("pk_idempotency_key", "idempotency_key", ["key"])
    op.drop_column("idempotency_key", "scope")
    op.drop_index("ix_order_created_at_id", table_name="order")
    op.drop_index("ix_order_customer_subject_created_at", table_name="order")
    op.drop_column("order", "customer_subject")
