"""Custom metrics. Created 2026-11-24."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import created_at, optional, required, serial_id

revision, down_revision = "0003", "0002"


def upgrade() -> None:
    op.create_table(
        "metrics",
        serial_id(),
        required("key", sa.String(64), unique=True),
        required("name", sa.String(200)),
        required("kind", sa.String(16)),
        required("direction", sa.String(16)),
        required("numerator_event", sa.String(64)),
        required("numerator_aggregation", sa.String(8)),
        optional("denominator_event", sa.String(64)),
        required("denominator_aggregation", sa.String(8)),
        optional("numerator_unless", sa.String(64)),
        optional("window_hours", sa.Float()),
        optional("cap", sa.Float()),
        created_at(),
    )


def downgrade() -> None:
    op.drop_table("metrics")
