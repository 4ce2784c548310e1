"""The stream worker: read batches with a consumer group, bulk-insert, then acknowledge.

Delivery is at least once into an idempotent store: an entry is acknowledged (and deleted) only
after its events are committed, and the unique `event_id` makes a second insert of the same
entry a no-op. Entries left pending by a worker that died are claimed by any worker once they
have been idle for `claim_idle_seconds`; each worker looks for them when it starts and then every
`claim_every_seconds`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from experiments.events.entries import decode_entry
from experiments.events.store import ReceivedEvent, store_events
from experiments.events.streams import StreamKeys

logger = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How a worker reads: entries per read, blocking time, and when pending entries are stolen."""

    entries_per_read: int = 100
    block_seconds: float = 1.0
    claim_idle_seconds: float = 15.0
    claim_every_seconds: float = 5.0
    retry_pause_seconds: float = 1.0


def consumer_name() -> str:
    """A name unique to this process, so a restarted worker never inherits stale state by name."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class StreamWorker:
    """Moves events from the stream into SQL. `run` loops until `stop` is set."""

    def __init__(
        self,
        client: redis.Redis[bytes],
        engine: Engine,
        keys: StreamKeys,
        options: WorkerOptions | None = None,
        consumer: str | None = None,
    ) -> None:
        self._redis = client
        self._engine = engine
        self._keys = keys
        self._options = options or WorkerOptions()
        self.consumer = consumer or consumer_name()
        self.stored = 0

    def ensure_group(self) -> None:
        """Create the stream and its consumer group if they do not exist yet."""
        try:
            self._redis.xgroup_create(self._keys.stream, self._keys.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; Redis or database outages are waited out, not fatal."""
        next_claim = 0.0
        while not stop.is_set():
            try:
                self.ensure_group()
                if time.monotonic() >= next_claim:
                    self.reclaim()
                    next_claim = time.monotonic() + self._options.claim_every_seconds
                self.read_once()
            except (RedisError, OSError, SQLAlchemyError) as error:
                logger.warning("event worker: %s; retrying", error)
                stop.wait(self._options.retry_pause_seconds)

    def read_once(self) -> int:
        """Read new entries (blocking briefly), store them, acknowledge; returns events stored."""
        answer: Any = self._redis.xreadgroup(
            self._keys.group,
            self.consumer,
            {self._keys.stream: ">"},
            count=self._options.entries_per_read,
            block=int(self._options.block_seconds * 1000),
        )
        if not answer:
            return 0
        entries: list[Entry] = answer[0][1]
        return self.process(entries)

    def reclaim(self) -> int:
        """Take over entries another consumer left pending too long; returns events stored."""
        stored = 0
        start = "0-0"
        idle_ms = int(self._options.claim_idle_seconds * 1000)
        while True:
            answer: Any = self._redis.xautoclaim(
                self._keys.stream,
                self._keys.group,
                self.consumer,
                min_idle_time=idle_ms,
                start_id=start,
                count=self._options.entries_per_read,
            )
            next_start, entries = answer[0], answer[1]
            live = [entry for entry in entries if entry[1] is not None]
            if live:
                logger.info("event worker %s reclaimed %d entries", self.consumer, len(live))
                stored += self.process(live)
            if next_start in (b"0-0", "0-0"):
                return stored
            start = next_start

    def process(self, entries: Sequence[Entry]) -> int:
        """Store the events of `entries` in one transaction, then acknowledge and delete them."""
        events: list[ReceivedEvent] = []
        good_ids: list[bytes] = []
        for entry_id, fields in entries:
            decoded = _decode_entry(fields)
            if decoded is None:
                self._dead_letter(entry_id, fields)
                continue
            events.extend(decoded)
            good_ids.append(entry_id)
        if good_ids:
            outcome = store_events(self._engine, events)
            pipe = self._redis.pipeline(transaction=False)
            pipe.xack(self._keys.stream, self._keys.group, *good_ids)
            pipe.xdel(self._keys.stream, *good_ids)
            pipe.execute()
            self.stored += outcome.inserted
            return outcome.inserted
        return 0

    def _dead_letter(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        # An entry no worker can read would block nobody but be retried forever: park it.
        logger.error("event worker: entry %r is not a batch of events; moved aside", entry_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.xadd(self._keys.dead_letters, {b"entry": entry_id, **fields})
        pipe.xack(self._keys.stream, self._keys.group, entry_id)
        pipe.xdel(self._keys.stream, entry_id)
        pipe.execute()


def _decode_entry(fields: dict[bytes, bytes]) -> list[ReceivedEvent] | None:
    try:
        return decode_entry(fields)
    except (ValueError, KeyError, TypeError):
        return None


class BackgroundWorker:
    """A `StreamWorker` on a daemon thread (inside `vekst serve`); `stop` waits for it."""

    def __init__(self, worker: StreamWorker) -> None:
        self._worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=worker.run, args=(self._stop,), name="vekst-event-worker", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
