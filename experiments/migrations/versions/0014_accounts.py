"""Personal accounts: users, invitations, failed logins; page sessions belong to a user; the
audit log names the user.

The pages' sessions were opened with an admin key until now: they all end here (their rows are
deleted), and people log in with an e-mail and a password from now on. API keys keep their
scopes (`admin`, `server`, `sdk` keep working); `viewer` and `editor` keys are new values of
the same column. Created 2026-12-05.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from experiments.migrations._columns import created_at, optional, required, serial_id

revision, down_revision = "0014_accounts", "0012_exposure_attributes"


def upgrade() -> None:
    op.create_table(
        "users",
        serial_id(),
        required("email", sa.String(254), unique=True),
        required("password_hash", sa.String(200)),
        required("role", sa.String(16)),
        optional("disabled_at", sa.DateTime()),
        created_at(),
        required("updated_at", sa.DateTime()),
    )
    op.create_table(
        "invitations",
        serial_id(),
        required("token_hash", sa.String(64), unique=True),
        required("email", sa.String(254)),
        required("role", sa.String(16)),
        sa.Column(
            "invited_by",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        created_at(),
        required("expires_at", sa.DateTime()),
        optional("used_at", sa.DateTime()),
    )
    op.create_table(
        "login_failures",
        sa.Column("subject_hash", sa.String(64), primary_key=True),
        required("failures", sa.Integer()),
        required("last_failed_at", sa.DateTime()),
        optional("wait_until", sa.DateTime()),
    )
    op.execute("DELETE FROM page_sessions")  # admin-key logins: people log in anew
    op.drop_index("ix_page_sessions_key_id", table_name="page_sessions")
    with op.batch_alter_table("page_sessions") as sessions:
        sessions.drop_column("key_digest")
        sessions.drop_column("key_id")
        sessions.add_column(
            sa.Column(
                "user_id",
                sa.Integer(),
                sa.ForeignKey("users.id", name="fk_page_sessions_user_id", ondelete="CASCADE"),
                nullable=False,
            )
        )
    op.create_index("ix_page_sessions_user_id", "page_sessions", ["user_id"])
    op.add_column("audit_log", optional("user_id", sa.Integer()))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as audit_log:
        audit_log.drop_column("user_id")
    op.execute("DELETE FROM page_sessions")
    op.drop_index("ix_page_sessions_user_id", table_name="page_sessions")
    with op.batch_alter_table("page_sessions") as sessions:
        sessions.drop_column("user_id")
        sessions.add_column(
            sa.Column(
                "key_id",
                sa.Integer(),
                sa.ForeignKey("api_keys.id", name="fk_page_sessions_key_id", ondelete="CASCADE"),
                nullable=True,
            )
        )
        sessions.add_column(required("key_digest", sa.String(64)))
    op.create_index("ix_page_sessions_key_id", "page_sessions", ["key_id"])
    op.drop_table("login_failures")
    op.drop_table("invitations")
    op.drop_table("users")
