"""Server-side page sessions (the cookie holds only a random id) and secrets shared by every
process (the pages' session secret when `VEKST_SESSION_SECRET` is unset).
Created 2026-12-05.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import created_at, optional, required

revision, down_revision = "0010_page_sessions", "0009_event_sources"


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column(
            "key_id",
            sa.Integer(),
            sa.ForeignKey("api_keys.id", ondelete="CASCADE"),
            nullable=True,
        ),
        required("key_digest", sa.String(64)),
        created_at(),
        required("expires_at", sa.DateTime()),
        optional("ended_at", sa.DateTime()),
    )
    op.create_index("ix_page_sessions_expires_at", "page_sessions", ["expires_at"])
    op.create_index("ix_page_sessions_key_id", "page_sessions", ["key_id"])
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        required("value", sa.String(128)),
        created_at(),
    )


def downgrade() -> None:
    op.drop_table("server_secrets")
    op.drop_index("ix_page_sessions_key_id", table_name="page_sessions")
    op.drop_index("ix_page_sessions_expires_at", table_name="page_sessions")
    op.drop_table("page_sessions")
