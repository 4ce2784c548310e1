"""Two SQL expressions whose spelling differs between SQLite and PostgreSQL.

Everything else in the aggregation is portable SQLAlchemy Core; these two are compiled per
dialect so the same query object runs on both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import DateTime, Float


class shifted_timestamp(FunctionElement[datetime]):  # noqa: N801 - reads like SQL
    """A timestamp moved by a number of seconds (negative moves it back).

    On SQLite the result is text to the millisecond ('YYYY-MM-DD HH:MM:SS.SSS'), which compares
    correctly with stored timestamps (same layout, microseconds) but is off by up to about half
    a millisecond; callers add a millisecond of slack where the boundary must be included.
    """

    type = DateTime()
    inherit_cache = True
    name = "shifted_timestamp"


@compiles(shifted_timestamp)
def _shifted_default(element: shifted_timestamp, compiler: SQLCompiler, **kw: Any) -> str:
    moment, seconds = _two(element, compiler, **kw)
    return f"({moment} + make_interval(secs => {seconds}))"


@compiles(shifted_timestamp, "sqlite")
def _shifted_sqlite(element: shifted_timestamp, compiler: SQLCompiler, **kw: Any) -> str:
    moment, seconds = _two(element, compiler, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f', julianday({moment}) + {seconds} / 86400.0)"


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
