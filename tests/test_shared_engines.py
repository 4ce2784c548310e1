"""The test processes' shared PostgreSQL engines (`tests/shared_engines.py`): one per URL, its
connections kept across an app's shutdown, closed for good by `release`."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from experiments.db import make_engine
from tests import shared_engines
from tests.waiting import wait_until

ALIVE = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")


def _backends(url: str, pid: int | None = None) -> tuple[int, int]:
    """The backend serving a connection of `url`'s engine, and how many backends `pid` is."""
    with make_engine(url).connect() as connection:
        own = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        return own, int(connection.execute(ALIVE, {"pid": pid or own}).scalar_one())


def test_one_engine_per_url_keeps_its_connections_until_released(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    assert make_engine(postgres_url) is engine
    assert make_engine("sqlite://") is not make_engine("sqlite://")  # SQLite is left alone
    first, _ = _backends(postgres_url)
    engine.dispose()  # as an app's shutdown does
    pool = engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedin() >= 1  # the pool and its idle one stay
    assert _backends(postgres_url, first)[1] == 1  # that backend still runs
    shared_engines.release(postgres_url)
    assert make_engine(postgres_url) is not engine
    # Its backend ends once it reads the close.
    wait_until(lambda: _backends(postgres_url, first)[1] == 0, 5, "the backend to end")
