"""Covering indexes for the results query.

The results aggregation reads every exposure of an experiment and every conversion of its units
in unit order. With these indexes both reads are index-only scans (PostgreSQL) or covering-index
searches (SQLite), in the unit order the per-unit grouping needs: no table lookups, no sorts.
They replace two indexes of 0002 that they make redundant, so ingestion maintains no more
indexes than before. Created 2026-11-26.
"""

from __future__ import annotations

from alembic import op

revision, down_revision = "0004", "0003"


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
    op.drop_index("ix_exposures_experiment_unit", table_name="exposures")  # a prefix of the new one
    op.drop_index(
        "ix_conversions_unit", table_name="conversions"
    )  # unit-first reads use the new one


def downgrade() -> None:
    op.create_index("ix_conversions_unit", "conversions", ["unit_id", "timestamp"])
    op.create_index(
        "ix_exposures_experiment_unit", "exposures", ["experiment", "unit_id", "timestamp"]
    )
    op.drop_index("ix_conversions_results", table_name="conversions")
    op.drop_index("ix_exposures_results", table_name="exposures")
