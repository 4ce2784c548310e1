"""A few threads of a server process that make its delivery attempts, so a slow or silent
receiver holds one of them (for one attempt's deadline at most), never the scheduler's ticks.

The scheduler claims only as many deliveries as there are idle threads (`idle`), so a claimed
delivery waits for no other attempt before its own begins, and its claim outlives its attempt.
The threads are daemons: a process that stops leaves an attempt in flight behind after a short
wait (`close`); that delivery stays claimed and is tried again once its claim runs out.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime

logger = logging.getLogger(__name__)

DELIVERY_THREADS = 4

# Makes one attempt of a claimed delivery (its id) at a moment; must not raise.
Attempt = Callable[[int, datetime], None]


class DeliveryWorkers:
    """A fixed set of daemon threads taking claimed deliveries from a queue."""

    def __init__(self, attempt: Attempt, threads: int = DELIVERY_THREADS) -> None:
        self._attempt = attempt
        self._queue: queue.SimpleQueue[tuple[int, datetime] | None] = queue.SimpleQueue()
        self._changed = threading.Condition()
        self._unfinished = 0  # queued or under way
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"vekst-delivery-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def idle(self) -> int:
        """How many more deliveries can start at once."""
        with self._changed:
            return 0 if self._closed else len(self._threads) - self._unfinished

    def submit(self, delivery_id: int, now: datetime) -> None:
        with self._changed:
            self._unfinished += 1
        self._queue.put((delivery_id, now))

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no attempt is queued or under way, at most `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self, wait_seconds: float) -> None:
        """Take no more work; wait at most `wait_seconds` for the attempts under way."""
        with self._changed:
            self._closed = True
        self.wait_idle(wait_seconds)
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            delivery_id, now = item
            try:
                self._attempt(delivery_id, now)
            except Exception:  # noqa: BLE001 - one delivery's failure must not end the thread
                logger.exception("webhook delivery %s could not be attempted", delivery_id)
            finally:
                with self._changed:
                    self._unfinished -= 1
                    self._changed.notify_all()
