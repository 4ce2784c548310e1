"""The scheduling lease (one holder per interval across processes) and the scheduled looks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from experiments.db import make_engine
from experiments.models import ResultSnapshot
from experiments.scheduling import acquire_lease, snapshot_running_experiments
from tests.experiments.results.simulation import START, simulate_shop
from tests.experiments.results.test_snapshots import make_experiment

HOUR = timedelta(hours=1)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


def test_one_holder_per_interval(engine: Engine) -> None:
    assert acquire_lease(engine, "snapshots", "a", HOUR, START)
    assert not acquire_lease(engine, "snapshots", "b", HOUR, START)
    assert not acquire_lease(engine, "snapshots", "a", HOUR, START + timedelta(minutes=59))
    assert acquire_lease(engine, "snapshots", "b", HOUR, START + HOUR)
    assert not acquire_lease(engine, "snapshots", "a", HOUR, START + HOUR)
    assert acquire_lease(engine, "other", "a", HOUR, START)  # leases are independent


def test_scheduled_looks_cover_every_running_experiment(engine: Engine) -> None:
    make_experiment(engine)
    simulate_shop(400, uplift=0.0, seed=1).load(engine)
    now = START + timedelta(days=3)
    assert snapshot_running_experiments(engine, now) == ["exp"]
    assert snapshot_running_experiments(engine, now + HOUR) == ["exp"]
    with Session(engine) as session:
        stored = list(session.exec(select(ResultSnapshot.look, ResultSnapshot.as_of)))
    # Backfill: midnights of 3, 4 and 5 March, then 5 March 08:00; then one more look.
    assert [look for look, _ in stored] == [1, 2, 3, 4, 5]
    assert stored[-1][1] == now + HOUR
