"""The SQL expressions whose spelling differs between SQLite and PostgreSQL.

Everything else in the aggregation is portable SQLAlchemy Core; these are compiled per dialect
so the same query object runs on both: a moved timestamp, the smaller of two numbers, and for
segments the attributes of a unit's first exposure and one attribute's value in them; and the
PostgreSQL settings a look's queries run with (`look_settings`, `SUMS_SETTINGS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, Executable, FunctionElement, Select
from sqlalchemy.types import DateTime, Float, Text


class shifted_timestamp(FunctionElement[datetime]):  # noqa: N801 - reads like SQL
    """A timestamp moved by a number of seconds (negative moves it back).

    On SQLite the result is text to the millisecond ('YYYY-MM-DD HH:MM:SS.SSS'), which compares
    correctly with stored timestamps (same layout, microseconds) but is off by up to about half
    a millisecond; callers add a millisecond of slack where the boundary must be included.
    """

    type = DateTime()
    inherit_cache = True
    name = "shifted_timestamp"


class smaller_of(FunctionElement[float]):  # noqa: N801
    """The smaller of two numbers (SQL LEAST; SQLite spells it as two-argument MIN)."""

    type = Float()
    inherit_cache = True
    name = "smaller_of"


class scanned(FunctionElement[str]):  # noqa: N801
    """A column compared after an index search rather than searched on: SQLite's unary `+`
    keeps its planner from searching the index once per value of an IN list on it (one search
    per unit instead of one per event name, then the unit's few rows are read in order).
    PostgreSQL reads the column as it is."""

    type = Text()
    inherit_cache = True
    name = "scanned"


class first_attributes(FunctionElement[str]):  # noqa: N801
    """An aggregate: the `attributes` (as JSON text) of the group's exposure with the smallest
    timestamp, '' when it has none. Arguments: the timestamp, the attributes, and optionally a
    condition on the rows it reads (its FILTER).

    One pass, no sort: the minimum of the timestamp written in a sortable text followed by the
    attributes, then the attributes cut off it (SQLite separates the two with char(1), below
    every character of the timestamp; PostgreSQL writes the timestamp with `to_char` in a fixed
    width, compared byte by byte with the "C" collation). Equal timestamps take the smaller
    attributes text: any choice is the first exposure, this one is the same on every look.
    """

    type = Text()
    inherit_cache = True
    name = "first_attributes"


class attribute_value(FunctionElement[str]):  # noqa: N801
    """One attribute's value in a unit's attributes text (`first_attributes`), as JSON text
    ('"mobile"', 'true', '3'), NULL when the attribute is absent. Arguments: the attributes,
    then the attribute's name."""

    type = Text()
    inherit_cache = True
    name = "attribute_value"


LOOK_SETTINGS: Mapping[str, str] = {"jit": "off", "plan_cache_mode": "force_custom_plan"}
"""PostgreSQL settings for a look's aggregation (docs/benchmarks.md, "Full looks").

The planner's cost of a look's query is far above `jit_above_cost`, and compiling its hundreds
of expressions took 3 of the backfill's 5.3 s at 100,000 units, more than it saved; the full
look's query also ran faster without it at 1,000,000 units. A larger `work_mem` was measured
too and left alone: it kept 200,000 units' sorts in memory, but at 1,000,000 units the sort
spills anyway, and it then cost more CPU than the default 4 MB.

Every look's query is planned for its own values (`plan_cache_mode`). The driver prepares a
statement run five times on one connection, and PostgreSQL may then plan it once for any
values: an incremental look's touched units, an array it knows only at execution, were then
estimated at a hundred, and the hourly look on a pooled connection took 10.5 s instead of
0.4 s from its eleventh run on (docs/benchmarks.md, "An incremental look reads its units once").
"""

SUMS_SETTINGS: Mapping[str, str] = {**LOOK_SETTINGS, "enable_sort": "off"}
"""`LOOK_SETTINGS` for a look's sums (`aggregation`: of every unit, or of an incremental look's
unit set; not a backfill's looks).

Their last grouping, per group (and level) over one row per unit, has a handful of groups, but
PostgreSQL cannot estimate how many from per-unit aggregates (it guesses tens of thousands) and
sorts the million rows, spilling them, instead of hashing them into a few groups. Without sorts
it hashes them (the per-unit grouping already is a hash aggregate, and reading the exposures in
index order needs no sort): the backend's CPU time of the full look's query went from 3.2 to
2.2 s at 200,000 units and from 15.0 to 13.5 s at 1,000,000 (medians of 3, alternating). An
incremental look's per-unit grouping was a sort that spilled too: hashed, the hourly look at
1,000,000 units went from 0.415 to 0.358 s (medians of 9, alternating). The backfill's window
functions need their sorts, and it was not faster so, hence not there.
"""


@contextmanager
def look_settings(
    connection: Connection, settings: Mapping[str, str] = LOOK_SETTINGS
) -> Iterator[None]:
    """Run the statements inside with `settings` on PostgreSQL (nothing changes on SQLite),
    set for the current transaction only and restored on the way out."""
    if connection.dialect.name != "postgresql":
        yield
        return
    read = text("SELECT current_setting(:name)")
    change = text("SELECT set_config(:name, :value, true)")
    previous = {name: connection.execute(read, {"name": name}).scalar_one() for name in settings}
    for name, value in settings.items():
        connection.execute(change, {"name": name, "value": value})
    try:
        yield
    finally:
        for name, value in previous.items():
            connection.execute(change, {"name": name, "value": value})


def look_rows(
    connection: Connection, query: Executable, settings: Mapping[str, str] = LOOK_SETTINGS
) -> list[RowMapping]:
    """The rows of a look's query, by label, run with `look_settings` (`settings`)."""
    with look_settings(connection, settings):
        return list(connection.execute(query).mappings())


def once_per_row(query: Select[Any]) -> Select[Any]:
    """`query` as a subquery whose columns are computed once per row.

    Both databases merge a plain subquery into the query that reads it, and then compute each of
    its expressions wherever it is used: a unit's metric value, read by its sum, its sum of
    squares and its cross sums, would be computed each time. An OFFSET (of 0) keeps the subquery
    apart (PostgreSQL does not pull it up, SQLite does not flatten it) without changing its rows.
    """
    return query.offset(0)


def _spelled(spelling: str) -> Callable[..., str]:
    def compile_two(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
        return spelling.format(*_two(element, compiler, **kw))

    return compile_two


def _spell(function: type[FunctionElement[Any]], default: str, sqlite: str) -> None:
    """Compile `function` as `default` (PostgreSQL) and as `sqlite` on SQLite; `{0}` and `{1}`
    stand for its two compiled arguments."""
    compiles(function)(_spelled(default))
    compiles(function, "sqlite")(_spelled(sqlite))


_spell(
    shifted_timestamp,
    "({0} + make_interval(secs => {1}))",
    "strftime('%Y-%m-%d %H:%M:%f', julianday({0}) + {1} / 86400.0)",
)
_spell(smaller_of, "LEAST({0}, {1})", "MIN({0}, {1})")
_spell(
    attribute_value,
    "CAST(CAST(NULLIF({0}, '') AS JSON) -> CAST({1} AS TEXT) AS TEXT)",
    # A top-level key quoted in the path; the dimension rule keeps '"' and '\\' out of names.
    """CASE WHEN {0} <> '' THEN {0} -> ('$."' || {1} || '"') END""",
)


@compiles(first_attributes)
def _first_attributes(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    spelling = "min(to_char({0}, 'YYYYMMDDHH24MISSUS') || coalesce(CAST({1} AS TEXT), '') "
    smallest = _smallest(element, compiler, spelling + 'COLLATE "C")', **kw)
    return f"substr({smallest}, 21)"


@compiles(first_attributes, "sqlite")
def _first_attributes_sqlite(
    element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any
) -> str:
    smallest = _smallest(element, compiler, "min({0} || char(1) || coalesce({1}, ''))", **kw)
    return f"substr({smallest}, instr({smallest}, char(1)) + 1)"


def _smallest(
    element: FunctionElement[Any], compiler: SQLCompiler, spelling: str, **kw: Any
) -> str:
    """`first_attributes`' minimum, `spelling` of its first two arguments, with a third (a
    condition) as its FILTER."""
    arguments = [compiler.process(argument, **kw) for argument in element.clauses]
    if len(arguments) not in (2, 3):
        raise TypeError(f"first_attributes takes 2 or 3 arguments, got {len(arguments)}")
    smallest = spelling.format(*arguments[:2])
    return smallest if len(arguments) == 2 else f"{smallest} FILTER (WHERE {arguments[2]})"


@compiles(scanned)
def _scanned(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(scanned, "sqlite")
def _scanned_sqlite(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(next(iter(element.clauses)), **kw)


def _two(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    arguments: list[ColumnElement[Any]] = list(element.clauses)
    if len(arguments) != 2:
        raise TypeError(f"{element.name} takes exactly two arguments, got {len(arguments)}")
    return compiler.process(arguments[0], **kw), compiler.process(arguments[1], **kw)
