"""${message}. Created ${create_date.date()}."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
# Column forms shared with the earlier versions: experiments.migrations._columns.

revision, down_revision = ${repr(up_revision)}, ${repr(down_revision)}
% if branch_labels:
branch_labels = ${repr(branch_labels)}
% endif
% if depends_on:
depends_on = ${repr(depends_on)}
% endif


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
