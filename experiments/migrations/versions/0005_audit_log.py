"""The audit log: who changed which experiment, metric or key, and how. Created 2026-11-29."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import optional, required, serial_id

revision, down_revision = "0005_audit_log", "0004"


def upgrade() -> None:
    op.create_table(
        "audit_log",
        serial_id(),
        required("at", sa.DateTime()),
        required("entity", sa.String(16)),
        required("entity_key", sa.String(64)),
        required("action", sa.String(16)),
        optional("key_id", sa.Integer()),
        required("key_name", sa.String(200)),
        required("changes", sa.JSON()),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
