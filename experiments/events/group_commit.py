"""Group commit for SQLite: batches from concurrent requests share one write transaction.

SQLite has one writer at a time. When every request opened its own transaction, the others
waited in SQLite's busy handler, which sleeps in steps of milliseconds, and each batch paid a
whole commit (and often a WAL checkpoint). Here a request queues its prepared rows and takes a
process-wide write lock; whoever holds the lock writes every batch queued so far in one
transaction, with one `executemany` per table and batch so each batch still learns exactly how
many of its events were new. A request whose batch another writer took just collects its outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future

from sqlalchemy.engine import Engine

from experiments.events.store import (
    PreparedRows,
    ReceivedEvent,
    StoreOutcome,
    insert_rows,
    prepare_rows,
)

# Bounds one transaction (and so how long the others wait for its commit).
MAX_EVENTS_PER_TRANSACTION = 20_000


class GroupCommitWriter:
    """Stores batches like `store_events`, sharing transactions between concurrent callers.

    `store` blocks (call it from a worker thread); it returns once the batch is committed, or
    raises the error that made its transaction fail.
    """

    def __init__(self, engine: Engine, max_events: int = MAX_EVENTS_PER_TRANSACTION) -> None:
        self._engine = engine
        self._max_events = max_events
        self._sqlite = engine.dialect.name != "postgresql"
        self._queue: list[tuple[PreparedRows, Future[int]]] = []
        self._queue_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def store(self, events: Sequence[ReceivedEvent]) -> StoreOutcome:
        """Insert `events` (in a transaction it may share); repeats and ids already stored
        count as duplicates."""
        rows = prepare_rows(events, self._sqlite)
        if not rows.count:
            return StoreOutcome(inserted=0, duplicates=rows.repeats)
        done: Future[int] = Future()
        with self._queue_lock:
            self._queue.append((rows, done))
        while not done.done():
            with self._write_lock:
                if not done.done():
                    self._write(self._take())
        inserted = done.result()
        return StoreOutcome(inserted=inserted, duplicates=rows.repeats + rows.count - inserted)

    def _take(self) -> list[tuple[PreparedRows, Future[int]]]:
        # Oldest first, up to the size bound (but always at least one batch).
        with self._queue_lock:
            taken: list[tuple[PreparedRows, Future[int]]] = []
            total = 0
            while self._queue and (
                not taken or total + self._queue[0][0].count <= self._max_events
            ):
                item = self._queue.pop(0)
                taken.append(item)
                total += item[0].count
            return taken

    def _write(self, batches: list[tuple[PreparedRows, Future[int]]]) -> None:
        try:
            with self._engine.begin() as connection:
                counts = [insert_rows(connection, rows) for rows, _ in batches]
        except BaseException as error:
            for _, done in batches:
                done.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        for (_, done), inserted in zip(batches, counts, strict=True):
            done.set_result(inserted)
