"""API keys and experiment definitions. Created 2026-11-23."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import created_at, optional, required, serial_id

revision, down_revision = "0001", None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        serial_id(),
        required("prefix", sa.String(16)),
        required("key_hash", sa.String(64), unique=True),
        required("scope", sa.String(16)),
        required("name", sa.String(200), server_default=""),
        created_at(),
        optional("revoked_at", sa.DateTime()),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])
    op.create_table(
        "experiments",
        serial_id(),
        required("key", sa.String(64), unique=True),
        required("salt", sa.String(32)),
        required("name", sa.String(200)),
        required("hypothesis", sa.Text(), server_default=""),
        required("unit_type", sa.String(32)),
        required("variants", sa.JSON()),
        required("traffic", sa.Float()),
        optional("targeting", sa.JSON()),
        optional("layer", sa.String(64)),
        required("layer_ranges", sa.JSON()),
        required("overrides", sa.JSON()),
        required("design", sa.JSON()),
        required("metrics", sa.JSON()),
        required("status", sa.String(16)),
        optional("winner", sa.String(64)),
        created_at(),
        required("updated_at", sa.DateTime()),
        optional("started_at", sa.DateTime()),
        optional("stopped_at", sa.DateTime()),
    )
    op.create_index("ix_experiments_layer", "experiments", ["layer"])
    op.create_index("ix_experiments_status", "experiments", ["status"])


def downgrade() -> None:
    op.drop_table("experiments")
    op.drop_table("api_keys")
