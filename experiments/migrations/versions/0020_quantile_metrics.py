"""Quantile metrics: the level `quantile` (0 < quantile < 1) of a custom metric of kind
`quantile` (`experiments.models.metric`); NULL for every other kind. Created 2026-12-05.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional

revision, down_revision = "0020_quantile_metrics", "0014_accounts"


def upgrade() -> None:
    op.add_column("metrics", optional("quantile", sa.Float()))


def downgrade() -> None:
    with op.batch_alter_table("metrics") as metrics:
        metrics.drop_column("quantile")
