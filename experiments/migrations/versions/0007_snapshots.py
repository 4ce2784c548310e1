"""Results snapshots (one row per look), the scheduler's lease, webhooks and their deliveries.

A snapshot holds one look's page (with the running sequential readings) and the per-variant
sufficient statistics of every metric: no per-unit data, a few kilobytes per look.
Created 2026-11-29.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import created_at, optional, required, serial_id

revision, down_revision = "0007_snapshots", "0006_pasted_counts"


def upgrade() -> None:
    op.create_table(
        "result_snapshots",
        serial_id(),
        required("experiment", sa.String(64)),
        required("look", sa.Integer()),
        required("computed_at", sa.DateTime()),
        required("as_of", sa.DateTime()),
        required("verdict", sa.String(16)),
        required("results", sa.JSON()),
        required("sums", sa.JSON()),
        sa.UniqueConstraint("experiment", "look", name="uq_result_snapshots_look"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        required("holder", sa.String(64)),
        required("expires_at", sa.DateTime()),
    )
    op.create_table(
        "webhooks",
        serial_id(),
        required("url", sa.String(2000)),
        required("events", sa.JSON()),
        required("secret", sa.String(200)),
        created_at(),
    )
    op.create_table(
        "webhook_deliveries",
        serial_id(),
        required("webhook_id", sa.Integer(), sa.ForeignKey("webhooks.id", ondelete="CASCADE")),
        required("event", sa.String(32)),
        required("experiment", sa.String(64)),
        required("look", sa.Integer()),
        required("body", sa.Text()),
        required("status", sa.String(16)),
        required("attempts", sa.Integer()),
        required("next_attempt_at", sa.DateTime()),
        optional("response_status", sa.Integer()),
        optional("error", sa.String(500)),
        created_at(),
        optional("delivered_at", sa.DateTime()),
    )
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "id"])
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_webhook", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("leases")
    op.drop_table("result_snapshots")
