"""On SQLite, a full look's exposed units in a temporary table keyed by unit.

A look's sums join each exposed unit (`unit_columns.first_exposures`) to its conversions and
group the joined rows per unit. SQLite has no hash aggregation, and it does not know that a
subquery grouped per unit yields its rows in unit order: it sorted every joined row (some three
per unit, each carrying the unit's attributes and bounds) in a temporary B-tree, spilled to
disk at a million units. Read from a table whose key is the unit, the join yields the rows
in unit order, and SQLite groups them as they come, without the sort (docs/benchmarks.md,
"Full looks on SQLite: the units in a table of their own").

PostgreSQL hashes the grouping; it reads the subquery as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

from sqlalchemy import Column, MetaData, Table, Text, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import FromClause, Subquery

_names = count(1)


@contextmanager
def units_in_order(connection: Connection, units: Subquery) -> Iterator[FromClause]:
    """`units` (one row per `unit_id`) as a temporary table keyed by unit, on SQLite, for the
    statements run inside; dropped on the way out. Elsewhere, `units` itself.

    The table is written and read in the caller's transaction, so it holds the same snapshot
    of the events as the statements that read it."""
    if connection.dialect.name != "sqlite":
        yield units
        return
    # A name per use: a connection may hold the table of a look that has not dropped it yet.
    table = Table(
        f"look_units_{next(_names)}",
        MetaData(),
        *(
            Column(column.name, Text, primary_key=True)
            if column.name == "unit_id"
            else Column(column.name, column.type)
            for column in units.columns
        ),
        prefixes=["TEMPORARY"],
        sqlite_with_rowid=False,
    )
    if "unit_id" not in table.c:
        raise ValueError("units_in_order needs a unit_id column")
    table.create(connection)
    try:
        connection.execute(table.insert().from_select(list(units.columns.keys()), select(units)))
        yield table.alias("first_exposure")
    finally:
        table.drop(connection)
