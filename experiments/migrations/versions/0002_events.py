"""Exposure and conversion events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "exposures",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(80), nullable=False, unique=True),
        sa.Column("experiment", sa.String(64), nullable=False),
        sa.Column("variant", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(256), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_exposures_experiment_unit", "exposures", ["experiment", "unit_id", "timestamp"]
    )
    op.create_table(
        "conversions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(80), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("unit_id", sa.String(256), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_conversions_name_unit", "conversions", ["name", "unit_id", "timestamp"])
    op.create_index("ix_conversions_unit", "conversions", ["unit_id", "timestamp"])


def downgrade() -> None:
    op.drop_table("conversions")
    op.drop_table("exposures")
