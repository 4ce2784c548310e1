"""Intake at scale: drop `ix_conversions_name_unit` (name, unit_id, timestamp). Created 2026-12-05.

Every stored conversion paid for it (a third index entry per row, about a fifth of SQLite's
insert time), and no query needs it any more: the results queries read conversions by unit
through the covering `ix_conversions_results` (unit_id, name, timestamp, value, source), and the
two queries by name (the recent baseline of a plan, the event summary) read that covering index
or the table instead, about as fast (docs/benchmarks.md, "Intake at scale").
"""

from __future__ import annotations

from alembic import op

revision, down_revision = "0026_intake", "0025_sticky"


def upgrade() -> None:
    op.drop_index("ix_conversions_name_unit", table_name="conversions")


def downgrade() -> None:
    op.create_index("ix_conversions_name_unit", "conversions", ["name", "unit_id", "timestamp"])
