"""Holdouts (`experiments.models.holdout`): a share of units kept on the control of the
experiments a holdout covers, compared with an equal measurement group. Created 2026-12-06.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import created_at, optional, required, serial_id

revision, down_revision = "0022_holdouts", "0020_quantile_metrics"


def upgrade() -> None:
    op.create_table(
        "holdouts",
        serial_id(),
        required("key", sa.String(64), unique=True),
        required("salt", sa.String(32)),
        required("name", sa.String(200)),
        required("share", sa.Float()),
        required("unit_type", sa.String(32)),
        required("experiments", sa.JSON()),
        required("metrics", sa.JSON()),
        required("ends_at", sa.DateTime()),
        required("status", sa.String(16)),
        optional("planned_units_per_group", sa.Integer()),
        created_at(),
        required("updated_at", sa.DateTime()),
        optional("stopped_at", sa.DateTime()),
    )
    op.create_index("ix_holdouts_status", "holdouts", ["status"])


def downgrade() -> None:
    op.drop_index("ix_holdouts_status", table_name="holdouts")
    op.drop_table("holdouts")
