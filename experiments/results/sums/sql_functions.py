"""Two SQL expressions whose spelling differs between SQLite and PostgreSQL.

Everything else in the aggregation is portable SQLAlchemy Core; these two are compiled per
dialect (`_SPELLINGS`) so the same query object runs on both.
"""

from __future__ import annotations

from collections.abc import Callable
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


class smaller_of(FunctionElement[float]):  # noqa: N801
    """The smaller of two numbers (SQL LEAST; SQLite spells it as two-argument MIN)."""

    type = Float()
    inherit_cache = True
    name = "smaller_of"


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


def _two(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    arguments: list[ColumnElement[Any]] = list(element.clauses)
    if len(arguments) != 2:
        raise TypeError(f"{element.name} takes exactly two arguments, got {len(arguments)}")
    return compiler.process(arguments[0], **kw), compiler.process(arguments[1], **kw)
