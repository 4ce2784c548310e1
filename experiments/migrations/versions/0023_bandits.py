"""Bandit experiments: an experiment's `type` ("ab" or "bandit") and its `bandit` settings, and
the history of a bandit's weights (`bandit_periods`: per update period its start, the weights
served from then and the seed they were drawn with). Created 2026-12-06.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional, required, serial_id

revision, down_revision = "0023_bandits", "0022_holdouts"


def upgrade() -> None:
    op.add_column("experiments", required("type", sa.String(16), server_default="ab"))
    op.add_column("experiments", optional("bandit", sa.JSON()))
    op.create_table(
        "bandit_periods",
        serial_id(),
        required("experiment", sa.String(64)),
        required("period", sa.Integer()),
        required("starts_at", sa.DateTime()),
        required("weights", sa.JSON()),
        optional("seed", sa.Integer()),
        optional("look", sa.Integer()),
        sa.UniqueConstraint("experiment", "period", name="uq_bandit_periods_period"),
    )


def downgrade() -> None:
    op.drop_table("bandit_periods")
    with op.batch_alter_table("experiments") as experiments:
        experiments.drop_column("bandit")
        experiments.drop_column("type")
