"""The test processes' shared PostgreSQL engines (`tests/shared_engines.py`): one per URL, its
connections kept across an app's shutdown, closed for good by `release`."""

from __future__ import annotations

from sqlalchemy import text

from experiments.db import make_engine
from tests import shared_engines
from tests.waiting import wait_until


def _backend(url: str) -> int:
    with make_engine(url).connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_one_engine_per_url_keeps_its_connection_until_released(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    assert make_engine(postgres_url) is engine
    assert make_engine("sqlite://") is not make_engine("sqlite://")  # SQLite is left alone
    before = _backend(postgres_url)
    engine.dispose()  # as an app's shutdown does
    assert _backend(postgres_url) == before  # the same backend: no new connection
    shared_engines.release(postgres_url)
    replaced = make_engine(postgres_url)
    assert replaced is not engine
    assert _backend(postgres_url) != before
    alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")

    def gone() -> bool:  # the released backend ends once it reads the close
        with replaced.connect() as connection:
            return int(connection.execute(alive, {"pid": before}).scalar_one()) == 0

    wait_until(gone, 5, "the released connection's backend to end")
