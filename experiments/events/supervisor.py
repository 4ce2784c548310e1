"""Keeps a stream worker running: a worker loop that dies is logged and restarted with backoff.

`StreamWorker.run` already survives outages and bad data; this is the layer behind it, for a
failure nobody foresaw. Its state (running, restarting, stopped; restarts, last error, events
stored and dead-lettered) is what `/readyz` shows for the worker inside `vekst serve`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from experiments.events.entries import describe_error

logger = logging.getLogger(__name__)

WorkerState = Literal["starting", "running", "restarting", "stopped"]
FIRST_RESTART_PAUSE_SECONDS = 1.0
MAX_RESTART_PAUSE_SECONDS = 60.0


class Runnable(Protocol):
    """A worker loop (`StreamWorker`): runs until `stop` is set, counting what it did."""

    stored: int
    dead_lettered: int

    def run(self, stop: threading.Event) -> None: ...


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """What a supervised worker is doing, for `/readyz`."""

    state: WorkerState
    restarts: int
    last_error: str | None
    stored: int
    dead_lettered: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Supervisor:
    """Runs `worker.run` until `stop` is set; restarts it after a crash, pausing
    `first_pause` seconds, doubling up to `max_pause`."""

    def __init__(
        self,
        worker: Runnable,
        stop: threading.Event,
        first_pause: float = FIRST_RESTART_PAUSE_SECONDS,
        max_pause: float = MAX_RESTART_PAUSE_SECONDS,
    ) -> None:
        self._worker = worker
        self._stop = stop
        self._first_pause = first_pause
        self._max_pause = max_pause
        self._state: WorkerState = "starting"
        self.restarts = 0
        self.last_error: str | None = None

    def run(self) -> None:
        pause = self._first_pause
        while not self._stop.is_set():
            self._state = "running"
            try:
                self._worker.run(self._stop)
            except Exception as error:
                self.restarts += 1
                self.last_error = describe_error(error)
                self._state = "restarting"
                logger.exception(
                    "event worker died (%s); restart %d in %g s",
                    self.last_error,
                    self.restarts,
                    pause,
                )
                self._stop.wait(pause)
                pause = min(pause * 2, self._max_pause)
        self._state = "stopped"

    def status(self) -> WorkerStatus:
        return WorkerStatus(
            self._state,
            self.restarts,
            self.last_error,
            self._worker.stored,
            self._worker.dead_lettered,
        )


class BackgroundWorker:
    """A supervised worker on a daemon thread (inside `vekst serve`); `stop` waits for it."""

    def __init__(self, worker: Runnable, first_pause: float = FIRST_RESTART_PAUSE_SECONDS) -> None:
        self._stop = threading.Event()
        self._supervisor = Supervisor(worker, self._stop, first_pause)
        self._thread = threading.Thread(
            target=self._supervisor.run, name="vekst-event-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def status(self) -> WorkerStatus:
        status = self._supervisor.status()
        if status.state == "running" and not self._thread.is_alive():
            # Not started yet, or (it should not happen) the thread is gone.
            return WorkerStatus(
                "stopped", status.restarts, status.last_error, status.stored, status.dead_lettered
            )
        return status
