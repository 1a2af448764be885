"""Allocation receipts name the rule that decided: whole, fewest (exact, budget, greedy), short

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Receipts written before the rule was recorded keep an empty one: nobody said which.
    op.add_column(
        "allocation_receipt",
        sa.Column("rule", sa.String(length=20), server_default="", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("allocation_receipt", "rule")
