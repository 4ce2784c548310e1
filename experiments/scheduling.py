"""Scheduled looks and webhook deliveries, run by every server process, done once overall.

Each process ticks every few seconds. On a tick it tries to take the `snapshots` lease (see
`experiments.leases`) for one snapshot interval: exactly one process (of any host) wins per
interval and takes a look of every running experiment and holdout, handing each new look of an
experiment to the webhooks (`queue_look_alerts` queues its alerts in its transaction). Then every
process claims the webhook deliveries that are due (each by its own compare-and-set, see
`webhooks.delivery`) and hands them to its delivery threads (`webhooks.workers`): a slow receiver
never delays a look or a tick. What it did goes to a `SchedulerObserver` (the API process's
metrics).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from experiments.db import session_scope
from experiments.encryption import KeyRing
from experiments.errors import VekstError
from experiments.leases import acquire_lease, new_holder
from experiments.models.experiment import Experiment, ExperimentStatus
from experiments.models.holdout import Holdout, HoldoutStatus
from experiments.results.holdout_looks import take_holdout_look
from experiments.results.snapshots import take_snapshot
from experiments.results.sums.look_basis import FULL_LOOK_EVERY
from experiments.settings import Settings
from experiments.webhooks.delivery import (
    DeliveryOutcome,
    RetryPolicy,
    Sender,
    attempt_delivery,
    claim_due,
)
from experiments.webhooks.sender import HttpSender
from experiments.webhooks.store import queue_look_alerts
from experiments.webhooks.targets import TargetPolicy
from experiments.webhooks.workers import DeliveryWorkers

logger = logging.getLogger(__name__)

SNAPSHOT_LEASE = "snapshots"
TICK_SECONDS = 10.0
STOP_WAIT_SECONDS = 2.0  # how long a stopping process waits for delivery attempts under way


class SchedulerObserver(Protocol):
    """Hears what the scheduled work did; called from the scheduler's and delivery threads."""

    def look_taken(self, seconds: float) -> None:
        """A scheduled look of one experiment was taken and stored in `seconds`."""
        ...

    def look_skipped(self) -> None:
        """A scheduled look of one experiment could not be taken (it was logged)."""
        ...

    def delivery_attempted(self, outcome: DeliveryOutcome) -> None:
        """One webhook delivery was attempted, with `outcome`."""
        ...


def snapshot_running_experiments(
    engine: Engine,
    observer: SchedulerObserver,
    now: datetime | None = None,
    full_look_every: timedelta = FULL_LOOK_EVERY,
) -> list[str]:
    """Take a look of every running experiment, then of every holdout stored as running (an
    ended one gets its final look once), each in its own transaction; returns the keys.
    An experiment's look is a full one at least every `full_look_every` (the guard of
    incremental looks).

    An experiment that cannot be looked at is logged and skipped; the others still get theirs.
    `observer` hears each look's duration and each skip.
    """
    with engine.connect() as connection:
        keys = list(
            connection.execute(
                select(col(Experiment.key))
                .where(col(Experiment.status) == ExperimentStatus.RUNNING.value)
                .order_by(col(Experiment.key))
            ).scalars()
        )
    taken = _look_at_each(
        engine,
        keys,
        "experiment",
        observer,
        lambda session, key: take_snapshot(
            session, key, now, on_new_look=queue_look_alerts, full_look_every=full_look_every
        ),
    )
    return taken + _snapshot_running_holdouts(engine, observer, now)


def _snapshot_running_holdouts(
    engine: Engine, observer: SchedulerObserver, now: datetime | None
) -> list[str]:
    """A look of every running holdout (no webhook hears them), each in its own transaction."""
    moment = now or datetime.now(UTC)
    with engine.connect() as connection:
        keys = list(
            connection.execute(
                select(col(Holdout.key))
                .where(
                    col(Holdout.status) == HoldoutStatus.RUNNING.value,
                    col(Holdout.created_at) <= moment,
                )
                .order_by(col(Holdout.key))
            ).scalars()
        )
    return _look_at_each(
        engine,
        keys,
        "holdout",
        observer,
        lambda session, key: take_holdout_look(session, key, moment),
    )


def _look_at_each(
    engine: Engine,
    keys: list[str],
    kind: str,
    observer: SchedulerObserver,
    take: Callable[[Session, str], object],
) -> list[str]:
    """Run `take` for each key in its own transaction; a key whose look fails is logged and
    skipped. Returns the keys looked at."""
    taken = []
    for key in keys:
        started = time.perf_counter()
        try:
            with session_scope(engine) as session:
                take(session, key)
        except VekstError as error:
            logger.warning("scheduled look of %s %s skipped: %s", kind, key, error.detail)
            observer.look_skipped()
            continue
        observer.look_taken(time.perf_counter() - started)
        taken.append(key)
    return taken


class Scheduler:
    """The background task of a server process (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        observer: SchedulerObserver,
        send: Sender | None = None,
    ) -> None:
        self._engine = engine
        self._observer = observer
        self._interval = timedelta(minutes=settings.snapshot_interval_minutes)
        self._full_look_every = settings.full_look_every
        self._policy = RetryPolicy(settings.webhook_max_attempts, settings.webhook_retry_seconds)
        self._send = send or HttpSender(TargetPolicy(settings.webhook_allow_private_targets))
        self._keys = KeyRing.for_settings(settings)
        self._holder = new_holder()
        self._stopping = asyncio.Event()
        self._workers = DeliveryWorkers(self._attempt)

    def run_once(self, now: datetime | None = None) -> None:
        """Take the looks if this process holds the lease, then start the due deliveries."""
        moment = now or datetime.now(UTC)
        if acquire_lease(self._engine, SNAPSHOT_LEASE, self._holder, self._interval, moment):
            snapshot_running_experiments(
                self._engine, self._observer, moment, self._full_look_every
            )
        for delivery_id in claim_due(self._engine, moment, self._workers.idle()):
            self._workers.submit(delivery_id, moment)

    def wait_for_deliveries(self, timeout: float) -> bool:
        """Wait until the deliveries started have been attempted (at most `timeout` s)."""
        return self._workers.wait_idle(timeout)

    def stop(self) -> None:
        """Ask `run_forever` to return; a tick under way finishes first."""
        self._stopping.set()

    def close(self, wait_seconds: float = STOP_WAIT_SECONDS) -> None:
        """Start no more deliveries and wait at most `wait_seconds` for those under way."""
        self._workers.close(wait_seconds)

    def _attempt(self, delivery_id: int, now: datetime) -> None:
        outcome = attempt_delivery(
            self._engine, delivery_id, self._send, self._policy, self._keys, now
        )
        if outcome is not None:
            self._observer.delivery_attempted(outcome)

    async def run_forever(self, tick_seconds: float = TICK_SECONDS) -> None:
        """Tick until `stop`. A tick's work runs in a thread that cancelling could not end,
        so the server stops the loop this way and waits for it before closing the engine."""
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), tick_seconds)
            except TimeoutError:
                pass
            if self._stopping.is_set():
                return
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:  # noqa: BLE001 - logged; the next tick tries again
                logger.exception("scheduled looks or webhook deliveries failed")
