"""One SQLAlchemy engine per PostgreSQL URL in a test process, its connections kept across tests.

Every test builds its own app, and the app, the fixtures and the helpers each call
`experiments.db.make_engine`: without this each of them connected anew (a new PostgreSQL backend
process, about 6 ms of the server's CPU, plus the dialect's first-connection queries) and compiled
every statement anew, since SQLAlchemy caches compiled SQL per engine. Shared, a PostgreSQL test
reuses the connections and the compiled statements of the tests before it.

An app's shutdown disposes its engine; a shared engine keeps its idle connections instead, which
hold no lock and no transaction (the pool rolls back every connection it takes back), so
emptying the schema between tests (`tests.services.MigratedPostgres`) is not held up by them.
`release(url)` closes them for good: called before a schema is dropped.

SQLite is left alone: each test has a file of its own, and opening one costs little.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.engine import Engine, make_url

import experiments.db

_ENGINES: dict[str, Engine] = {}


@contextmanager
def shared_postgres_engines() -> Iterator[None]:
    """While the block runs, `make_engine` hands out one engine per PostgreSQL URL."""
    create: Callable[..., Engine] = getattr(experiments.db, "create_engine")  # noqa: B009

    def shared(url: Any, **options: Any) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            return create(url, **options)
        key = f"{parsed.render_as_string(hide_password=False)} {sorted(options.items())}"
        engine = _ENGINES.get(key)
        if engine is None:
            engine = create(url, **options)
            engine.dispose = _keep_connections  # type: ignore[method-assign]
            _ENGINES[key] = engine
        return engine

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(experiments.db, "create_engine", shared)
        try:
            yield
        finally:
            release()


def release(url: str | None = None) -> None:
    """Close the connections of the shared engine of `url` (of every one when None)."""
    prefix = None if url is None else make_url(url).render_as_string(hide_password=False) + " "
    for key in [key for key in _ENGINES if prefix is None or key.startswith(prefix)]:
        Engine.dispose(_ENGINES.pop(key))


def _keep_connections(close: bool = True) -> None:
    """A shared engine's `dispose`: its pool stays, for the next test."""
