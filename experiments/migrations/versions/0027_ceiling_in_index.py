"""Incremental looks: `ix_conversions_results` carries the conversion's id on PostgreSQL.
Created 2026-12-06.

A look counts the conversions up to its ceiling (`conversions.id <= ...`, `ingestion_marks`).
The covering index held every other column a look reads, but not the id, so PostgreSQL read the
table row of every conversion it found, to compare its id: an incremental look's index search
per touched unit became a search plus a table read per event. With the id as an included
column the search reads the index alone (an index-only scan: the table is read only for rows
stored since the last vacuum). The 1,000,000-unit hourly look went from about 0.52 to 0.42 s
(docs/benchmarks.md, "An incremental look reads its units once").

SQLite needs nothing: its rowid, the id, is in every index. The index is built again, which
holds writes to the conversions table while it runs (about 4 s per 3,000,000 conversions here).
"""

from __future__ import annotations

from alembic import op

revision, down_revision = "0027_ceiling_in_index", "0026_intake"

_COLUMNS = ["unit_id", "name", "timestamp", "value", "source"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _rebuilt(include=["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _rebuilt(include=[])


def _rebuilt(include: list[str]) -> None:
    """The index built again with `include`, under its name, the old one in use until then."""
    op.create_index(
        "ix_conversions_results_new", "conversions", _COLUMNS, postgresql_include=include
    )
    op.drop_index("ix_conversions_results", table_name="conversions")
    op.execute("ALTER INDEX ix_conversions_results_new RENAME TO ix_conversions_results")
