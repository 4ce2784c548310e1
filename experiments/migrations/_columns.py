"""Column forms the migrations share, so each version lists only its own columns.

Released migrations are frozen: change a form here only if the DDL of every version that uses it
stays the same (a new form gets a new function).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import SchemaItem


def serial_id() -> sa.Column[int]:
    """The surrogate integer primary key, numbered by the database."""
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def required(
    name: str, kind: sa.types.TypeEngine[Any], *constraints: SchemaItem, **options: Any
) -> sa.Column[Any]:
    """A NOT NULL column; `constraints` and `options` as for `sa.Column` (a `ForeignKey`;
    `unique`, `server_default`, ...)."""
    return sa.Column(name, kind, *constraints, nullable=False, **options)


def optional(name: str, kind: sa.types.TypeEngine[Any]) -> sa.Column[Any]:
    """A nullable column."""
    return sa.Column(name, kind, nullable=True)


def created_at() -> sa.Column[Any]:
    """When the row was written (UTC, naive, as every timestamp column here)."""
    return required("created_at", sa.DateTime())
