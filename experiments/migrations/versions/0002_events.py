"""Exposure and conversion events.

Created 2026-11-23.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional, required

revision, down_revision = "0002", "0001"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "exposures",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        required("event_id", sa.String(80), unique=True),
        required("experiment", sa.String(64)),
        required("variant", sa.String(64)),
        required("unit_id", sa.String(256)),
        required("timestamp", sa.DateTime()),
        required("received_at", sa.DateTime()),
    )
    op.create_index(
        "ix_exposures_experiment_unit", "exposures", ["experiment", "unit_id", "timestamp"]
    )
    op.create_table(
        "conversions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        required("event_id", sa.String(80), unique=True),
        required("name", sa.String(64)),
        required("unit_id", sa.String(256)),
        optional("value", sa.Float()),
        optional("properties", sa.JSON()),
        required("timestamp", sa.DateTime()),
        required("received_at", sa.DateTime()),
    )
    op.create_index("ix_conversions_name_unit", "conversions", ["name", "unit_id", "timestamp"])
    op.create_index("ix_conversions_unit", "conversions", ["unit_id", "timestamp"])


def downgrade() -> None:
    op.drop_table("conversions")
    op.drop_table("exposures")
