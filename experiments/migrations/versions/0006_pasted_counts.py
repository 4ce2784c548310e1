"""Per-variant counts pasted from an e-mail tool. Created 2026-11-29."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import created_at, optional, required, serial_id

revision, down_revision = "0006_pasted_counts", "0005_audit_log"


def upgrade() -> None:
    op.create_table(
        "pasted_counts",
        serial_id(),
        required("experiment", sa.String(64)),
        required("variant", sa.String(64)),
        required("as_of", sa.DateTime()),
        required("sent", sa.Integer()),
        optional("opened", sa.Integer()),
        optional("clicked", sa.Integer()),
        optional("unsubscribed", sa.Integer()),
        optional("revenue", sa.Float()),
        optional("revenue_sum_squares", sa.Float()),
        created_at(),
    )
    op.create_index("ix_pasted_counts_experiment", "pasted_counts", ["experiment", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_pasted_counts_experiment", table_name="pasted_counts")
    op.drop_table("pasted_counts")
