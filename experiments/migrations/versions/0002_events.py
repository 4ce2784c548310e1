"""Exposure and conversion events. Created 2026-11-23."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional, required

revision, down_revision = "0002", "0001"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _create_event_table(name: str, *columns: sa.Column[Any]) -> None:
    """An event table: the row id and the event id, `columns`, then when the event happened and
    when it was received."""
    op.create_table(
        name,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        required("event_id", sa.String(80), unique=True),
        *columns,
        required("timestamp", sa.DateTime()),
        required("received_at", sa.DateTime()),
    )


def upgrade() -> None:
    _create_event_table(
        "exposures",
        required("experiment", sa.String(64)),
        required("variant", sa.String(64)),
        required("unit_id", sa.String(256)),
    )
    op.create_index(
        "ix_exposures_experiment_unit", "exposures", ["experiment", "unit_id", "timestamp"]
    )
    _create_event_table(
        "conversions",
        required("name", sa.String(64)),
        required("unit_id", sa.String(256)),
        optional("value", sa.Float()),
        optional("properties", sa.JSON()),
    )
    op.create_index("ix_conversions_name_unit", "conversions", ["name", "unit_id", "timestamp"])
    op.create_index("ix_conversions_unit", "conversions", ["unit_id", "timestamp"])


def downgrade() -> None:
    op.drop_table("conversions")
    op.drop_table("exposures")
