"""Access to the real PostgreSQL and Redis used by integration tests.

Tests that need them read VEKST_TEST_POSTGRES_URL / VEKST_TEST_REDIS_URL and skip with a visible
reason when unset; VEKST_REQUIRE_SERVICES=1 (set by CI) turns that skip into a failure.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from experiments.migrate import upgrade
from tests import shared_engines


def require_service(variable: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    reason = f"{variable} is not set; this test needs the real service"
    if os.environ.get("VEKST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (VEKST_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def schema_url(base_url: str, schema: str) -> str:
    """`base_url` with its connections in `schema` and committing without waiting for the WAL
    flush (`synchronous_commit=off`): a commit a test sees is just as visible to every other
    connection, only its durability across a crash of PostgreSQL itself, which no test causes,
    is given up. A commit then costs about a fifth of the time on this machine's disk (the
    tests commit several times each: every request, every truncation)."""
    separator = "&" if "?" in base_url else "?"
    options = f"-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    return f"{base_url}{separator}options={options}"


@contextmanager
def fresh_postgres_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = schema_url(base_url, schema)
    try:
        yield url
    finally:
        shared_engines.release(url)
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def scratch_database(postgres_url: str | None) -> Iterator[str]:
    """A new, empty schema of `postgres_url` when given, else a new SQLite file; gone afterwards."""
    if postgres_url:
        with fresh_postgres_schema(postgres_url) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db"


# A table holding more rows than this, or taking more bytes (live and deleted rows, which no
# vacuum removes here), is truncated rather than deleted from (see `_truncated`).
_MANY_ROWS = 5000
_LARGE_BYTES = 8 * 1024 * 1024


class MigratedPostgres:
    """One schema migrated once for the whole run (each xdist worker has its own), emptied
    before every test that asks for it: far cheaper than migrating a new schema per test.

    Emptying deletes every row and starts every sequence at 1 again, so a test sees what a fresh
    schema shows. A test that left the schema changed (a table dropped or added, a migration
    undone) or a table locked by a connection it leaked gets a new migrated schema instead, so no
    test depends on what the one before it did.
    """

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
        self._schema = ""
        self._tables: set[str] = set()
        self._head = ""
        self._delete_order: list[str] = []

    @property
    def url(self) -> str:
        return schema_url(self._base_url, self._schema)

    def empty(self) -> str:
        """The URL of the migrated schema with every table empty."""
        if not self._schema or not self._truncated():
            self._migrate_new_schema()
        return self.url

    def close(self) -> None:
        if self._schema:
            self._drop()
        self._admin.dispose()

    def _migrate_new_schema(self) -> None:
        if self._schema:
            self._drop()
        self._schema = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self._schema}"'))
        upgrade(self.url)
        self._tables, self._head = self._shape()
        self._delete_order = self._referencing_first()
        # No vacuum records the space a DELETE frees, so new rows are appended as they were to a
        # truncated table, and a query without ORDER BY still lists them in insertion order.
        with self._admin.connect() as connection:
            for table in self._delete_order:
                connection.execute(
                    text(
                        f'ALTER TABLE "{self._schema}"."{table}" SET'
                        " (autovacuum_enabled = false, toast.autovacuum_enabled = false)"
                    )
                )

    def _shape(self) -> tuple[set[str], str]:
        with self._admin.connect() as connection:
            names = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                {"schema": self._schema},
            )
            tables = {str(name) for (name,) in names}
            head = ""
            if "alembic_version" in tables:
                version = f'SELECT version_num FROM "{self._schema}".alembic_version'
                head = str(connection.execute(text(version)).scalar_one_or_none() or "")
        return tables, head

    def _referencing_first(self) -> list[str]:
        """The schema's tables, each after every table whose foreign keys point at it, so that
        deleting in this order never trips a key."""
        foreign_keys = (
            "SELECT child.relname, parent.relname FROM pg_constraint c"
            " JOIN pg_class child ON child.oid = c.conrelid"
            " JOIN pg_class parent ON parent.oid = c.confrelid"
            " JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE c.contype = 'f' AND n.nspname = :schema"
        )
        points_at: dict[str, set[str]] = {table: set() for table in self._tables}
        with self._admin.connect() as connection:
            for child, parent in connection.execute(text(foreign_keys), {"schema": self._schema}):
                if child != parent:
                    points_at.setdefault(str(parent), set()).add(str(child))
        order: list[str] = []
        placed: set[str] = set()

        def place(table: str) -> None:
            if table in placed:
                return
            placed.add(table)
            for child in sorted(points_at.get(table, ())):
                place(child)
            order.append(table)

        for table in sorted(points_at):
            place(table)
        return [table for table in order if table != "alembic_version"]

    def _truncated(self) -> bool:
        """Empty the schema's tables; False when it no longer has the migrated shape or a lock
        held elsewhere keeps a table from being emptied.

        One query finds the tables holding rows (most tests write to few). Those with few rows
        are emptied by DELETE, referencing tables first: on this machine a TRUNCATE of a handful
        of tables took 100-190 ms (new files for each table and every table referencing it),
        a DELETE of a test's few rows well under a millisecond. A table left with many rows (a
        simulated shop) or grown large with deleted ones is truncated, which leaves it as new.
        Every sequence starts at 1 again (an insert rolled back leaves its table empty but its
        sequence moved on)."""
        if self._shape() != (self._tables, self._head):
            return False
        schema = self._schema
        counted = " UNION ALL ".join(
            f"SELECT '{table}', count(*), pg_total_relation_size('\"{schema}\".\"{table}\"') FROM"
            f' (SELECT 1 FROM "{schema}"."{table}" LIMIT {_MANY_ROWS + 1}) AS rows_held'
            for table in self._delete_order
        )
        sequences = (
            "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = :schema"
        )
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SET lock_timeout = '5s'"))
                connection.execute(text("SET synchronous_commit = off"))  # as in `schema_url`
                held = connection.execute(text(counted))
                rows, large = {}, []
                for table, count, size in held:
                    rows[str(table)] = int(count)
                    if count > _MANY_ROWS or (count and size > _LARGE_BYTES):
                        large.append(str(table))
                many = large
                if many:
                    names = ", ".join(f'"{schema}"."{table}"' for table in many)
                    connection.execute(text(f"TRUNCATE {names} CASCADE"))
                for table in self._delete_order:  # referencing tables first
                    if rows[table] and table not in many:
                        connection.execute(text(f'DELETE FROM "{schema}"."{table}"'))
                connection.execute(text(sequences), {"schema": schema})
        except (OperationalError, IntegrityError):
            return False
        return True

    def _drop(self) -> None:
        # A connection a test leaked may hold a lock for ever: then the schema stays behind
        # (one more in the test database) rather than the run hanging.
        shared_engines.release(self.url)
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SET lock_timeout = '5s'"))
                connection.execute(text(f'DROP SCHEMA "{self._schema}" CASCADE'))
        except OperationalError:
            pass
