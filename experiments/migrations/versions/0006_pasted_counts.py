"""Per-variant counts pasted from an e-mail tool.

Revision ID: 0006_pasted_counts
Revises: 0005_audit_log
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_pasted_counts"
down_revision = "0005_audit_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pasted_counts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("experiment", sa.String(64), nullable=False),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=True),
        sa.Column("clicked", sa.Integer(), nullable=True),
        sa.Column("unsubscribed", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("revenue_sum_squares", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_pasted_counts_experiment", "pasted_counts", ["experiment", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_pasted_counts_experiment", table_name="pasted_counts")
    op.drop_table("pasted_counts")
