"""Custom metrics.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("numerator_event", sa.String(64), nullable=False),
        sa.Column("numerator_aggregation", sa.String(8), nullable=False),
        sa.Column("denominator_event", sa.String(64), nullable=True),
        sa.Column("denominator_aggregation", sa.String(8), nullable=False),
        sa.Column("numerator_unless", sa.String(64), nullable=True),
        sa.Column("window_hours", sa.Float(), nullable=True),
        sa.Column("cap", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("metrics")
