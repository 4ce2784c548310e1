"""Which kind of key sent each event, and metrics that count only some kinds.

`exposures.source` and `conversions.source` hold the scope of the key that sent the event
(`sdk`, `server` or `admin`); events stored before are `sdk` events. `metrics.sources` lists the
sources a custom metric counts (NULL: all). The conversions' covering index of migration 0004
gains `source`, so a metric limited to server events is still read from the index alone.
Created 2026-12-05.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional, required

revision, down_revision = "0009_event_sources", "0008_webhook_secrets"

_EVENT_TABLES = ("exposures", "conversions")
_RESULTS_COLUMNS = ["unit_id", "name", "timestamp", "value"]


def upgrade() -> None:
    for table in _EVENT_TABLES:
        op.add_column(table, required("source", sa.String(8), server_default="sdk"))
    op.add_column("metrics", optional("sources", sa.JSON()))
    op.drop_index("ix_conversions_results", table_name="conversions")
    op.create_index("ix_conversions_results", "conversions", [*_RESULTS_COLUMNS, "source"])


def downgrade() -> None:
    op.drop_index("ix_conversions_results", table_name="conversions")
    op.create_index("ix_conversions_results", "conversions", _RESULTS_COLUMNS)
    with op.batch_alter_table("metrics") as metrics:
        metrics.drop_column("sources")
    for table in _EVENT_TABLES:
        with op.batch_alter_table(table) as events:
            events.drop_column("source")
