"""The scheduling lease (one holder per interval across processes) and the scheduled looks."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from experiments.db import make_engine, session_scope
from experiments.leases import acquire_lease
from experiments.models.snapshot import ResultSnapshot
from experiments.results.snapshots import take_snapshot
from experiments.scheduling import Scheduler, snapshot_running_experiments
from experiments.settings import load_settings
from experiments.webhooks.delivery import DeliveryOutcome
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, simulate_shop
from tests.experiments.webhooks.helpers import TEST_KEY, add_webhook

HOUR = timedelta(hours=1)


class Heard:
    """A scheduler observer that keeps what it hears."""

    def __init__(self) -> None:
        self.looks: list[float] = []
        self.skipped = 0
        self.deliveries: list[DeliveryOutcome] = []

    def look_taken(self, seconds: float) -> None:
        self.looks.append(seconds)

    def look_skipped(self) -> None:
        self.skipped += 1

    def delivery_attempted(self, outcome: DeliveryOutcome) -> None:
        self.deliveries.append(outcome)


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
    start_experiment(engine, design={"planned_units_per_variant": 1500})
    simulate_shop(400, uplift=0.0, seed=1).load(engine)
    now = START + timedelta(days=3)
    heard = Heard()
    assert snapshot_running_experiments(engine, heard, now) == ["exp"]
    assert snapshot_running_experiments(engine, heard, now + HOUR) == ["exp"]
    assert len(heard.looks) == 2 and all(seconds > 0 for seconds in heard.looks)
    with Session(engine) as session:
        query = select(ResultSnapshot.look, ResultSnapshot.as_of).order_by(col(ResultSnapshot.look))
        stored = list(session.exec(query))
    # Backfill: midnights of 3, 4 and 5 March, then 5 March 08:00; then one more look.
    assert [look for look, _ in stored] == [1, 2, 3, 4, 5]
    assert stored[-1][1] == now + HOUR


def test_two_processes_ticking_at_once_take_the_looks_once(engine: Engine) -> None:
    start_experiment(engine, design={"planned_units_per_variant": 1500})
    simulate_shop(400, uplift=0.0, seed=1).load(engine)
    with session_scope(engine) as session:
        add_webhook(session, "http://127.0.0.1:9/hook")
        # A stored verdict the next look will change, so it raises an alert.
        look = take_snapshot(session, "exp", START + timedelta(days=1), on_new_look=None)
        look.sums = {**look.sums, "facts": {**look.sums["facts"], "verdict": "stop"}}
        session.add(look)
    sent: list[str] = []

    def record(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        sent.append(headers["X-Vekst-Event"])
        return 204

    settings = load_settings(
        database_url="sqlite://", snapshot_interval_minutes=60, encryption_keys=TEST_KEY
    )
    heard = Heard()
    first = Scheduler(engine, settings, heard, record)
    second = Scheduler(engine, settings, heard, record)
    now = START + timedelta(days=3)
    first.run_once(now)
    second.run_once(now)
    assert first.wait_for_deliveries(5) and second.wait_for_deliveries(5)
    with Session(engine) as session:
        looks = sorted(session.exec(select(ResultSnapshot.look)))
    assert looks == [1, 2, 3]  # the stored look (a backfill of 2), then one scheduled look
    assert sent == ["verdict_changed"]
    assert len(heard.looks) == 1 and heard.deliveries == ["delivered"]
    second.run_once(now + HOUR)  # the lease expired: the other process takes the next look
    with Session(engine) as session:
        assert len(list(session.exec(select(ResultSnapshot.look)))) == 4
    first.close()
    second.close()


def test_stop_ends_the_loop_after_the_tick_under_way() -> None:
    """`stop` lets a tick finish (its thread still holds a connection) and then returns."""
    ticks: list[str] = []
    ticking = threading.Event()

    class Slow(Scheduler):
        def run_once(self, now: datetime | None = None) -> None:
            ticking.set()
            time.sleep(0.2)
            ticks.append("done")

    async def run() -> bool:
        scheduler = Slow(make_engine("sqlite://"), load_settings(database_url="sqlite://"), Heard())
        task = asyncio.create_task(scheduler.run_forever(tick_seconds=0.01))
        # Inside the first tick's thread (waited for: on a loaded machine it starts late).
        await asyncio.to_thread(ticking.wait, 5)
        scheduler.stop()
        await asyncio.wait_for(task, 5)
        return task.cancelled()

    assert asyncio.run(run()) is False
    assert ticks == ["done"]
