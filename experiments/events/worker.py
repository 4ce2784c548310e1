"""The stream worker: read batches with a consumer group, bulk-insert, then acknowledge.

Delivery is at least once into an idempotent store: an entry is acknowledged (and deleted) only
after its events are committed, and the unique `event_id` makes a second insert of the same
entry a no-op. Entries left pending by a worker that died are claimed by any worker once they
have been idle for `claim_idle_seconds`; each worker looks for them when it starts and then every
`claim_every_seconds`, and then removes from the group the consumers that hold nothing and have
been idle for `consumer_idle_seconds` (workers that died).

No data can stop a worker. An entry that is not a batch of events, an event that cannot be
read, and an event the database refuses (the batch is split in halves until each refused event
stands alone) are each moved to the dead-letter stream with the error, in the same transaction
that acknowledges the entries; the rest is stored. Only outages (Redis or the database cannot be
reached) leave entries pending; they are retried after a pause that doubles up to
`max_retry_pause_seconds`.
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
from functools import partial
from typing import Any

import redis
from redis.exceptions import ResponseError
from sqlalchemy.engine import Engine

from experiments.events.entries import (
    EVENTS_FIELD,
    RECEIVED_FIELD,
    describe_error,
    dump_event,
    encode_received,
    split_entry,
)
from experiments.events.isolation import OUTAGES, store_isolating
from experiments.events.store import ReceivedEvent, store_events
from experiments.events.streams import StreamKeys

logger = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes]]
DeadLetter = dict[bytes, bytes]
ERROR_FIELD = b"error"
ENTRY_FIELD = b"entry"


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How a worker reads: entries per read, blocking time, when pending entries are stolen,
    how long it pauses after an outage, and when an idle consumer counts as dead."""

    entries_per_read: int = 100
    block_seconds: float = 1.0
    claim_idle_seconds: float = 15.0
    claim_every_seconds: float = 5.0
    retry_pause_seconds: float = 1.0
    max_retry_pause_seconds: float = 30.0
    consumer_idle_seconds: float = 300.0


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
        self.dead_lettered = 0

    def ensure_group(self) -> None:
        """Create the stream and its consumer group if they do not exist yet."""
        try:
            self._redis.xgroup_create(self._keys.stream, self._keys.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set; outages and unexpected errors are logged and waited out
        with a pause that doubles up to `max_retry_pause_seconds`, never fatal."""
        next_claim = 0.0
        pause = self._options.retry_pause_seconds
        while not stop.is_set():
            try:
                self.ensure_group()
                if time.monotonic() >= next_claim:
                    self.reclaim()
                    self.remove_dead_consumers()
                    next_claim = time.monotonic() + self._options.claim_every_seconds
                self.read_once()
            except OUTAGES as error:
                logger.warning("event worker: %s; retrying in %g s", describe_error(error), pause)
            except Exception:
                logger.exception("event worker: unexpected error; retrying in %g s", pause)
            else:
                pause = self._options.retry_pause_seconds
                continue
            stop.wait(pause)
            pause = min(pause * 2, self._options.max_retry_pause_seconds)

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

    def remove_dead_consumers(self) -> int:
        """Delete the group's consumers that hold no pending entry and have been idle longer
        than `consumer_idle_seconds`; returns how many. A live worker that was removed is
        re-created by its next read."""
        idle_ms = self._options.consumer_idle_seconds * 1000
        consumers: Any = self._redis.xinfo_consumers(self._keys.stream, self._keys.group)  # type: ignore[no-untyped-call]
        removed = 0
        for consumer in consumers:
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if name != self.consumer and consumer["pending"] == 0 and consumer["idle"] > idle_ms:
                self._redis.xgroup_delconsumer(self._keys.stream, self._keys.group, name)  # type: ignore[no-untyped-call]
                logger.info("event worker: removed the idle consumer %s", name)
                removed += 1
        return removed

    def process(self, entries: Sequence[Entry]) -> int:
        """Store the events of `entries`, then acknowledge and delete the entries; whatever
        cannot be read or stored goes to the dead-letter stream. Returns the events stored."""
        events: list[ReceivedEvent] = []
        origins: list[bytes] = []
        dead: list[DeadLetter] = []
        for entry_id, fields in entries:
            try:
                readable, unreadable = split_entry(fields)
            except (ValueError, KeyError, TypeError) as error:
                logger.error(
                    "event worker: entry %r is not a batch of events; moved aside", entry_id
                )
                dead.append({**fields, ENTRY_FIELD: entry_id, ERROR_FIELD: _reason(error)})
                continue
            for item in unreadable:
                logger.error(
                    "event worker: an event of entry %r is unreadable; moved aside", entry_id
                )
                letter = {ENTRY_FIELD: entry_id, EVENTS_FIELD: b"[" + item.raw + b"]"}
                if RECEIVED_FIELD in fields:
                    letter[RECEIVED_FIELD] = fields[RECEIVED_FIELD]
                dead.append({**letter, ERROR_FIELD: item.error.encode()})
            events.extend(readable)
            origins.extend(entry_id for _ in readable)
        outcome, refused = store_isolating(partial(store_events, self._engine), events)
        inserted = outcome.inserted
        for index, reason in refused:
            event, received_at = events[index]
            logger.error(
                "event worker: event %r of entry %r refused by the database (%s); moved aside",
                event.event_id,
                origins[index],
                reason,
            )
            dead.append(
                {
                    ENTRY_FIELD: origins[index],
                    RECEIVED_FIELD: str(encode_received(received_at)).encode(),
                    EVENTS_FIELD: dump_event(event),
                    ERROR_FIELD: reason.encode(),
                }
            )
        self._finish([entry_id for entry_id, _ in entries], dead)
        self.stored += inserted
        self.dead_lettered += len(dead)
        return inserted

    def _finish(self, entry_ids: list[bytes], dead: list[DeadLetter]) -> None:
        # One MULTI: dead letters are written exactly when their entries are acknowledged.
        pipe = self._redis.pipeline(transaction=True)
        for letter in dead:
            pipe.xadd(self._keys.dead_letters, letter)
        pipe.xack(self._keys.stream, self._keys.group, *entry_ids)
        pipe.xdel(self._keys.stream, *entry_ids)
        pipe.execute()


def _reason(error: BaseException) -> bytes:
    return describe_error(error).encode()
