"""Covering indexes for the results query.

The results aggregation reads every exposure of an experiment and every conversion of its units
in unit order. With these indexes both reads are index-only scans (PostgreSQL) or covering-index
searches (SQLite), in the unit order the per-unit grouping needs: no table lookups, no sorts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain key columns rather than PostgreSQL's INCLUDE, so SQLite gets the same index.
    op.create_index(
        "ix_exposures_results",
        "exposures",
        ["experiment", "unit_id", "timestamp", "variant"],
    )
    op.create_index(
        "ix_conversions_results",
        "conversions",
        ["unit_id", "name", "timestamp", "value"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversions_results", table_name="conversions")
    op.drop_index("ix_exposures_results", table_name="exposures")
