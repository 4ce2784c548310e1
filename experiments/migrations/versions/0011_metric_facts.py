"""What a custom metric's page says about it: the plural noun of what its numerator counts
(`counted_as`), the singular noun of what its denominator counts (`denominator_noun`), and the
column of pasted counts its numerator is read from (`pasted_field`). NULL: the defaults
(`experiments.models.metric`). Created 2026-12-05.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional

revision, down_revision = "0011_metric_facts", "0010_page_sessions"

_FACTS = (("counted_as", 64), ("denominator_noun", 64), ("pasted_field", 16))


def upgrade() -> None:
    for name, length in _FACTS:
        op.add_column("metrics", optional(name, sa.String(length)))


def downgrade() -> None:
    with op.batch_alter_table("metrics") as metrics:
        for name, _ in reversed(_FACTS):
            metrics.drop_column(name)
