"""On SQLite, the exposed units of a look (full or incremental) or a backfill in a temporary
table, each row numbered.

A look's sums join each exposed unit (`per_unit_values.first_exposures`) to its conversions and
group the joined rows per unit. SQLite has no hash aggregation, and it does not know that a
subquery grouped per unit yields one row per unit in order: it sorted every joined row (some
three per unit, each carrying the unit's attributes and bounds) in a temporary B-tree, which
spilled to disk at a million units. Written to a table, each unit's row gets a number (its
rowid, `POSITION`); the join reads the table in that order, and grouped by it the joined rows
arrive group after group, so SQLite groups them as they come, without the sort
(docs/benchmarks.md, "Full looks on SQLite: the exposed units in a table of their own").

The backfill (`backfill_query`) reads its units and their looks from such a table too: its
rows carry only the unit's number through the per-look grouping and the window sums, and read
the unit's other columns back from the table by that number after them.

PostgreSQL hashes the grouping; it reads the subquery as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, Integer, MetaData, Table, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.ddl import CreateTable
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.expression import CTE, ClauseElement, FromClause, Subquery

POSITION = "position"
"""The number of a unit's row in the table (SQLite's rowid): the per-unit grouping's key."""

_HELD = "vekst_look_unit_tables"
"""The key of how many look tables the connection holds now, in its `info`."""

_tables: dict[tuple[int, tuple[tuple[str, str], ...]], Table] = {}


@contextmanager
def units_in_order(connection: Connection, units: Subquery | CTE) -> Iterator[FromClause]:
    """`units` (one row per unit) as a temporary table with each row's `POSITION`, on SQLite,
    for the statements run inside; dropped on the way out. Elsewhere, `units` itself.

    The table is written and read in the caller's transaction, so it holds the same snapshot
    of the events as the statements that read it."""
    if connection.dialect.name != "sqlite":
        yield units
        return
    held = connection.info.get(_HELD, 0)
    table = _table(held + 1, units)
    # Left by a look that failed, if any: one statement, not the check and the drop.
    connection.execute(text(f'DROP TABLE IF EXISTS temp."{table.name}"'))
    table.create(connection)
    connection.info[_HELD] = held + 1
    try:
        connection.execute(_filled(table, units))
        yield table.alias(units.name)
    finally:
        table.drop(connection)
        connection.info[_HELD] = held


def written_units(units: Subquery | CTE) -> tuple[FromClause, list[ClauseElement]]:
    """`units_in_order`'s table for a new connection (one that holds no other), to read as
    `units`, and the statements that create and fill it, to run first."""
    table = _table(1, units)
    return table.alias(units.name), [CreateTable(table), _filled(table, units)]


def _filled(table: Table, units: Subquery | CTE) -> Insert:
    """The statement that writes the rows of `units` to `table`, numbered in their order."""
    return table.insert().from_select(list(units.columns.keys()), select(units))


def _table(number: int, units: Subquery | CTE) -> Table:
    """The temporary table `look_units_{number}` for the rows of `units`.

    One name per table a connection holds at once (a look may hold one while another is
    written), and one `Table` per name and columns: SQLAlchemy caches a statement's compiled
    form by the identity of the tables it reads, so every look's statements are compiled once.
    """
    columns = tuple((column.name, repr(column.type)) for column in units.columns)
    key = (number, columns)
    table = _tables.get(key)
    if table is None:
        table = _tables[key] = Table(
            f"look_units_{number}",
            MetaData(),
            # INTEGER PRIMARY KEY is SQLite's rowid: numbered as the rows are inserted.
            Column(POSITION, Integer, primary_key=True),
            *(Column(column.name, column.type) for column in units.columns),
            prefixes=["TEMPORARY"],
        )
    return table
