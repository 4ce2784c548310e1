"""Alembic environment: runs migrations against the URL set by experiments.migrate."""

from __future__ import annotations

from alembic import context

from experiments.db import make_engine


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("experiments.migrate must set sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode copies a table and drops the old one; with foreign keys on, SQLite's
            # DROP TABLE would first delete the rows that reference it (ON DELETE CASCADE).
            # The pragma only takes effect outside a transaction, hence before the one below.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
