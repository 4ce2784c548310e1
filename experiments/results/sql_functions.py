"""Two SQL expressions whose spelling differs between SQLite and PostgreSQL.

Everything else in the aggregation is portable SQLAlchemy Core; these two are compiled per
dialect so the same query object runs on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import Float


class seconds_between(FunctionElement[float]):  # noqa: N801 - reads like the SQL function it is
    """Seconds from the first timestamp to the second (negative when the second is earlier)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_between_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _two(element, compiler, **kw)
    # date_part gives double precision; EXTRACT gives numeric since PostgreSQL 14, far slower.
    return f"date_part('epoch', {end} - {start})"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _two(element, compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


class smaller_of(FunctionElement[float]):  # noqa: N801
    """The smaller of two numbers (SQL LEAST; SQLite spells it as two-argument MIN)."""

    type = Float()
    inherit_cache = True
    name = "smaller_of"


@compiles(smaller_of)
def _smaller_default(element: smaller_of, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = _two(element, compiler, **kw)
    return f"LEAST({first}, {second})"


@compiles(smaller_of, "sqlite")
def _smaller_sqlite(element: smaller_of, compiler: SQLCompiler, **kw: Any) -> str:
    first, second = _two(element, compiler, **kw)
    return f"MIN({first}, {second})"


def _two(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    arguments: list[ColumnElement[Any]] = list(element.clauses)
    if len(arguments) != 2:
        raise TypeError(f"{element.name} takes exactly two arguments, got {len(arguments)}")
    return compiler.process(arguments[0], **kw), compiler.process(arguments[1], **kw)
