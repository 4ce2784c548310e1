"""A look over many units, computed in parts at once.

A full look and the first look's backfill read every exposed unit, an incremental look the units
touched since the previous look, and a unit's rows depend on its own events only. So the units
are split into parts (a full look: ranges of their ids with about as many exposures in each,
`unit_ranges`; an incremental look: its touched ids dealt out), each part's query runs at the
same time as the others, and their rows are put together after. Every column of a look's rows
but the group's key is a count or a sum, so the parts add up (`added_up`; a float sum may then
differ from one pass in its last bits, within the 1e-9 the looks are held to).

A part is a `UnitQuery` over a range of units: the units (one row per unit) and the query that
reads them. It runs on a connection (`run_part`: on SQLite the units first written to a table of
their own, `unit_tables`), or is compiled to SQL (`compile_part`).

- PostgreSQL: each part on a connection of its own (a backend process of its own), from a
  thread; a full look's parts import the look's snapshot (`pg_export_snapshot`).
- SQLite runs inside this process, and there its threads contend: two halves of a million-unit
  full look on two threads each took about as long as the whole on one. So the parts after the
  first are compiled here and run each in a new interpreter that imports only the standard
  library (`sqlite_statements`: nothing of a threaded server is forked, and no caller's main
  module is imported again), on a connection of its own to the database file: about 30 ms to
  start. Each part counts only the events up to the look's ceiling, all of them committed
  before it was read (one writer at a time numbers SQLite's rows in order).

The first part always runs on the caller's connection. An experiment under the minimum, a
database other connections cannot see (an in-memory SQLite) and a machine with one core take
one part (docs/results.md, "A look in parts"). A part that fails apart is run again on the
caller's connection.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.pool import SingletonThreadPool, StaticPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.expression import (
    CTE,
    ClauseElement,
    CompoundSelect,
    FromClause,
    Select,
    Subquery,
)

from experiments.db import SQLITE_PRAGMAS
from experiments.results.sums.sql_functions import look_rows
from experiments.results.sums.unit_columns import EVERY_UNIT, EXPOSURES, EventIds, UnitRange
from experiments.results.sums.unit_tables import units_in_order, written_units

MIN_EXPOSURES = 100_000
"""Below this many exposures a full look is one part: splitting costs two index scans and a
connection (or a process) per part, more than it saves on a small experiment."""

MAX_PARTS = 4
"""At most this many parts, however many cores: each holds a connection (or a process)."""

Row = Mapping[Any, Any]
"""A row of a look's query by label (a `RowMapping`, or a dict from another process or once
parts are `added_up`)."""

Labels = dict[str, dict[str, str]]
"""Per metric key, its sums' column labels (sum name -> label)."""

PartResult = tuple[list[Row], Labels]

Found = TypeVar("Found")

Statement = tuple[str, tuple[Any, ...]]
"""A statement compiled for the standard library's `sqlite3`: its SQL and its parameters."""

CompiledPart = tuple[list[Statement], Labels]
"""A part's statements, the last one's rows its rows, and their labels."""


class UnitQuery(Protocol):
    """A look's query over the units of a range: what `run_part` runs and `compile_part`
    compiles."""

    @property
    def settings(self) -> Mapping[str, str]:
        """The PostgreSQL settings the query runs with (`sql_functions.look_settings`)."""
        ...

    def exposed(self, span: UnitRange) -> Subquery | CTE:
        """The units in `span`, one row per unit."""
        ...

    def query(
        self, dialect: str, units: FromClause
    ) -> tuple[Select[Any] | CompoundSelect[Any], Labels]:
        """The look's rows of `units` (the rows of `exposed(...)`, or a table of them), and the
        labels of their sums."""
        ...


logger = logging.getLogger(__name__)

_SNAPSHOT = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


def part_count() -> int:
    """How many parts a large look runs in: one per core this process may use, at most
    `MAX_PARTS`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_PARTS, cores or 1))


def run_part(connection: Connection, look: UnitQuery, span: UnitRange) -> PartResult:
    """The rows and labels of `look` over the units in `span`, read on `connection`."""
    with units_in_order(connection, look.exposed(span)) as table:
        query, labels = look.query(connection.dialect.name, table)
        return list(look_rows(connection, query, look.settings)), labels


def compile_part(dialect: Dialect, look: UnitQuery, span: UnitRange) -> CompiledPart:
    """`run_part`'s statements compiled for a new SQLite connection of the standard library
    (`sqlite_parts`): the units' table written, then the look's rows read."""
    table, writes = written_units(look.exposed(span))
    query, labels = look.query(dialect.name, table)
    return [compiled(statement, dialect) for statement in (*writes, query)], labels


def unit_ranges(
    connection: Connection,
    experiment: str,
    ceiling: EventIds | None,
    parts: int,
    smallest: int = MIN_EXPOSURES,
) -> list[UnitRange]:
    """`parts` ranges of the experiment's unit ids with about as many exposures in each (fewer
    when two split points fall on one unit), or `EVERY_UNIT` alone under `smallest` exposures."""
    exposures = EXPOSURES.c
    counted = [exposures.experiment == experiment]
    if ceiling is not None:
        counted.append(exposures.id <= ceiling.exposures)
    total = connection.execute(select(func.count()).where(*counted)).scalar_one()
    if parts < 2 or total < smallest:
        return [EVERY_UNIT]
    in_order = select(exposures.unit_id).where(*counted).order_by(exposures.unit_id).limit(1)
    found = {
        connection.execute(in_order.offset(total * part // parts)).scalar_one()
        for part in range(1, parts)
    }
    edges = [None, *sorted(found), None]
    return [UnitRange(low, high) for low, high in zip(edges, edges[1:], strict=False)]


def in_parts(
    connection: Connection, experiment: str, ceiling: EventIds | None, look: UnitQuery
) -> PartResult:
    """`run_part(connection, look, EVERY_UNIT)`, computed as the parts of `unit_ranges` at once:
    their rows concatenated, and their labels (the same in every part)."""
    where = where_others_run(connection)
    parts = part_count() if where is not None else 1
    ranges = unit_ranges(connection, experiment, ceiling, parts, MIN_EXPOSURES) if parts > 1 else []
    if len(ranges) < 2:
        return run_part(connection, look, EVERY_UNIT)

    def here(span: UnitRange) -> Callable[[Connection], PartResult]:
        return lambda reader: run_part(reader, look, span)

    if where == "processes":

        def apart(span: UnitRange) -> Callable[[], CompiledPart]:
            return lambda: compile_part(connection.dialect, look, span)

        return sqlite_parts(connection, [(here(span), apart(span)) for span in ranges])
    snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar_one())
    if not _SNAPSHOT.fullmatch(snapshot):  # it is written into a statement below
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    with ThreadPoolExecutor(len(ranges) - 1) as pool:
        others = [
            pool.submit(_on_snapshot, connection, snapshot, here(span)) for span in ranges[1:]
        ]
        return _gathered(
            connection, here(ranges[0]), zip(others, map(here, ranges[1:]), strict=True)
        )


def at_once(connection: Connection, reads: Sequence[Callable[[Connection], Found]]) -> list[Found]:
    """Each of `reads`' results. On PostgreSQL they run at once: the first on `connection`, each
    other on a connection of its own from a thread (the caller sees to it that they all read
    the same events). Elsewhere one after the other on `connection`: SQLite's threads contend."""
    if connection.dialect.name != "postgresql" or len(reads) < 2:
        return [read(connection) for read in reads]

    def apart(read: Callable[[Connection], Found]) -> Found:
        with connection.engine.connect() as own:
            return read(own)

    with ThreadPoolExecutor(len(reads) - 1) as pool:
        others = [pool.submit(apart, read) for read in reads[1:]]
        first = reads[0](connection)
        return [first, *(other.result() for other in others)]


def sqlite_parts(
    connection: Connection,
    parts: Sequence[tuple[Callable[[Connection], PartResult], Callable[[], CompiledPart]]],
) -> PartResult:
    """The rows of `parts` (each: run on a connection, or compiled) in one list, and their
    labels: the first run here, the others each compiled and run in an interpreter of its own
    on the same SQLite file (`sqlite_statements`), from threads."""
    path = connection.engine.url.database or ""

    def run_apart(compiling: Callable[[], CompiledPart]) -> PartResult:
        # Compiled in the thread, while the first part starts here and the child starts too.
        labels: list[Labels] = []

        def statements() -> list[Statement]:
            compiled_part, part_labels = compiling()
            labels.append(part_labels)
            return compiled_part

        return _statements_in_process(path, statements), labels[0]

    (first, _), others = parts[0], parts[1:]
    with ThreadPoolExecutor(max(1, len(others))) as pool:
        apart = [pool.submit(run_apart, compiling) for _, compiling in others]
        return _gathered(connection, first, zip(apart, (here for here, _ in others), strict=True))


def _gathered(
    connection: Connection,
    first: Callable[[Connection], PartResult],
    others: Iterable[tuple[Future[PartResult], Callable[[Connection], PartResult]]],
) -> PartResult:
    """`first`'s rows, run here while the others run apart, then each other's: its own, or,
    when it failed apart (its process or connection could not start, say), those of the same
    part run again here: slower, not wrong."""
    rows, labels = first(connection)
    rows = list(rows)
    for other, run_here in others:
        try:
            rows += other.result()[0]
        except Exception as error:  # noqa: BLE001 - any failure apart is retried here
            # The error's type only: its text may hold the part's bounds, which are unit ids.
            logger.warning(
                "a part of a look failed apart (%s); run again here", type(error).__name__
            )
            rows += run_here(connection)[0]
    return rows, labels


def added_up(rows: Iterable[Row], summed: Iterable[str]) -> list[Row]:
    """`rows` with one row per key (the columns not `summed`), its `summed` columns added up
    (None counts as nothing; a column None in every row stays None)."""
    summed = list(dict.fromkeys(summed))  # a column named twice is still added once
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


def where_others_run(connection: Connection) -> str | None:
    """Where the parts after the first run: "connections" (PostgreSQL), "processes" (SQLite),
    or None when other connections would not see the caller's database."""
    engine = connection.engine
    if isinstance(engine.pool, StaticPool | SingletonThreadPool):
        return None
    if connection.dialect.name == "postgresql":
        return "connections"
    database = engine.url.database or ""
    if database in ("", ":memory:") or "mode=memory" in str(engine.url):
        return None
    return "processes"


def _on_snapshot(
    connection: Connection, snapshot: str, read: Callable[[Connection], PartResult]
) -> PartResult:
    """`read` on a new PostgreSQL connection, in a transaction that reads the caller's
    `snapshot`."""
    isolated = connection.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with isolated as other, other.begin():
        other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        return read(other)


def compiled(statement: ClauseElement, dialect: Dialect) -> Statement:
    """`statement` as SQL with positional parameters for a `sqlite3` connection, each processed
    as the engine binds it (a datetime as SQLite's text of it, say), an `IN` list expanded."""
    if isinstance(statement, ExecutableDDLElement):
        return str(statement.compile(dialect=dialect)), ()
    form = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    if not isinstance(form, SQLCompiler):
        raise TypeError(f"not a statement to run: {type(statement).__name__}")
    values = form.construct_params()
    parameters = []
    for name in form.positiontup or ():
        # An expanded IN list's parameters are named after its own: `name_1`, `name_2`, ...
        bind = form.binds.get(name)
        if bind is None:
            bind = form.binds[name.rsplit("_", 1)[0]]
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        value = values[name]
        parameters.append(value if processor is None else processor(value))
    return str(form), tuple(parameters)


def _statements_in_process(path: str, statements: Callable[[], list[Statement]]) -> list[Row]:
    """The last statement's rows, run in a new interpreter on the SQLite file at `path`; the
    statements are made (`statements()`) while the interpreter starts."""
    answer = _ran(
        "experiments.results.sums.sqlite_statements",
        lambda: pickle.dumps((path, statements(), list(SQLITE_PRAGMAS))),
    )
    columns, rows = pickle.loads(answer)  # noqa: S301 - our own child's answer
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _ran(module: str, job: Callable[[], bytes]) -> bytes:
    """The standard output of a new interpreter running `module`, given `job()` (made while it
    starts) on its standard input. A child that fails is reported by its exception's name from
    its last line, not its text (it may hold unit ids)."""
    # The child finds the modules where this process does (a test's or a checkout's folders).
    paths = os.pathsep.join(path for path in sys.path if path)
    environment = {**os.environ, "PYTHONPATH": paths}
    command = [sys.executable, "-m", module]
    pipe = subprocess.PIPE
    with subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe, env=environment) as child:
        try:
            given = job()
        except BaseException:
            child.kill()
            raise
        answer: bytes
        errors: bytes
        answer, errors = child.communicate(given)
    if child.returncode != 0:
        last = (errors.decode(errors="replace").strip().splitlines() or [""])[-1]
        ended = child.returncode
        raise RuntimeError(f"the part's process ended with {ended}: {last.split(':')[0]}")
    return answer
