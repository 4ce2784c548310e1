"""A look over every unit of a large experiment, computed in parts at once.

A full look and the first look's backfill read every exposed unit, and a unit's rows depend on
its own events only. So the units are split into ranges of their ids with about as many
exposures in each (`unit_ranges`); each range's query runs on a connection of its own, in a
thread of its own (both drivers let other threads run while the database works, so the parts
use as many cores), and their rows are put together after (`in_parts`). Every column of a
look's rows but the group's key is a count or a sum, so the parts add up
(`added_up`; a float sum may then differ from one pass in its last bits, within the 1e-9 the
looks are held to).

The parts count the same events: each counts only those up to the look's ceiling, and on
PostgreSQL each part's transaction imports the look's snapshot (`pg_export_snapshot`), so an
event committed while the parts start is seen by all of them or by none.

An experiment under `MIN_EXPOSURES` exposures is one part, on the caller's connection, as is
every look of a database that other connections cannot see (an in-memory SQLite) and of a
machine with one core (docs/results.md, "Full looks in parts").
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from experiments.results.sums.unit_columns import EVERY_UNIT, EXPOSURES, EventIds, UnitRange

MIN_EXPOSURES = 100_000
"""Below this many exposures a look is one part: splitting costs two index scans and a
connection per part, more than it saves on a small experiment."""

MAX_PARTS = 4

Row = Mapping[Any, Any]
"""A row of a look's query by label (a `RowMapping`, or a dict once parts are `added_up`)."""
_SNAPSHOT = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


def part_count() -> int:
    """How many parts a large look runs in: one per core this process may use, at most
    `MAX_PARTS`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_PARTS, cores or 1))


def unit_ranges(
    connection: Connection, experiment: str, ceiling: EventIds | None, parts: int
) -> list[UnitRange]:
    """`parts` ranges of the experiment's unit ids with about as many exposures in each (fewer
    when units have many exposures each), or `EVERY_UNIT` alone under `MIN_EXPOSURES`."""
    exposures = EXPOSURES.c
    counted = [exposures.experiment == experiment]
    if ceiling is not None:
        counted.append(exposures.id <= ceiling.exposures)
    total = connection.execute(select(func.count()).where(*counted)).scalar_one()
    if parts < 2 or total < MIN_EXPOSURES:
        return [EVERY_UNIT]
    in_order = select(exposures.unit_id).where(*counted).order_by(exposures.unit_id).limit(1)
    found = {
        connection.execute(in_order.offset(total * part // parts)).scalar_one()
        for part in range(1, parts)
    }
    edges = [None, *sorted(found), None]
    return [UnitRange(low, high) for low, high in zip(edges, edges[1:], strict=False)]


def in_parts(
    connection: Connection,
    experiment: str,
    ceiling: EventIds | None,
    rows_of: Callable[[Connection, UnitRange], Sequence[Row]],
) -> list[Row]:
    """The rows of `rows_of(connection, EVERY_UNIT)`, computed as the rows of each range of
    `unit_ranges` on a connection of its own and concatenated (the first on `connection`)."""
    parts = part_count() if _parts_help(connection) else 1
    ranges = unit_ranges(connection, experiment, ceiling, parts) if parts > 1 else [EVERY_UNIT]
    if len(ranges) == 1:
        return list(rows_of(connection, EVERY_UNIT))
    snapshot = _exported_snapshot(connection)
    with ThreadPoolExecutor(max_workers=len(ranges) - 1) as pool:
        others = [
            pool.submit(_rows_apart, connection, snapshot, rows_of, span) for span in ranges[1:]
        ]
        rows = list(rows_of(connection, ranges[0]))
        for other in others:
            rows += other.result()
    return rows


def added_up(rows: Iterable[Row], summed: Iterable[str]) -> list[Row]:
    """`rows` with one row per key (the columns not `summed`), its `summed` columns added up
    (None counts as nothing; a column None in every row stays None)."""
    summed = list(summed)
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple((name, value) for name, value in row.items() if name not in summed)
        total = totals.get(key)
        if total is None:
            totals[key] = dict(row)
            continue
        for name in summed:
            value = row[name]
            if value is not None:
                total[name] = value if total[name] is None else total[name] + value
    return list(totals.values())


def _parts_help(connection: Connection) -> bool:
    """Whether parts run at once here: on PostgreSQL, each in a backend of its own. SQLite runs
    in this process, where its threads contend (two halves of a million-unit full look each took
    as long as the whole did alone, docs/benchmarks.md), so it stays one part."""
    engine = connection.engine
    if isinstance(engine.pool, StaticPool | SingletonThreadPool):
        return False
    return connection.dialect.name == "postgresql"


def _exported_snapshot(connection: Connection) -> str | None:
    """On PostgreSQL, the caller's snapshot for the other parts to import."""
    if connection.dialect.name != "postgresql":
        return None
    return str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def _rows_apart(
    connection: Connection,
    snapshot: str | None,
    rows_of: Callable[[Connection, UnitRange], Sequence[Row]],
    span: UnitRange,
) -> list[Row]:
    """`rows_of(…, span)` on a new connection of `connection`'s engine, in a read transaction
    of its own (with `snapshot`, PostgreSQL's exported snapshot)."""
    engine = connection.engine
    options = {"isolation_level": "REPEATABLE READ"} if snapshot else {}
    with engine.connect().execution_options(**options) as other, other.begin():
        if snapshot:
            if not _SNAPSHOT.fullmatch(snapshot):  # it is written into the statement
                raise ValueError(f"unexpected snapshot id {snapshot!r}")
            other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        return list(rows_of(other, span))
