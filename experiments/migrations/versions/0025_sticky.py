"""Sticky assignment: `sticky` (SDKs keep each unit's first variant while the experiment runs)
and `sticky_version` (bumped by a reshuffle) on experiments. Created 2026-12-06.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import required

# (After 0022_holdouts, merged to main first; both were branched from 0020_quantile_metrics.)
revision, down_revision = "0025_sticky", "0023_bandits"


def upgrade() -> None:
    with op.batch_alter_table("experiments") as experiments:
        experiments.add_column(required("sticky", sa.Boolean(), server_default=sa.false()))
        experiments.add_column(required("sticky_version", sa.Integer(), server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("experiments") as experiments:
        experiments.drop_column("sticky_version")
        experiments.drop_column("sticky")
