"""Where accepted batches go: straight into SQL, or onto a Redis Stream for the worker.

Both are `EventSink`s. `DirectSink` stores in the request's own transaction and reports exact
duplicates. `RedisStreamSink` appends the batch with one atomic Lua script (claim each client
`event_id` with SET NX, then XADD the unclaimed events), answers after the append, and falls back
to `DirectSink` whenever Redis fails, so an accepted event is never lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from anyio import to_thread
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import Engine

from experiments.events.group_commit import GroupCommitWriter
from experiments.events.store import ReceivedEvent, dedupe, store_events
from experiments.events.streams import StreamKeys
from experiments.events.types import Event, encode_event
from experiments.events.validation import SERVER_ID_PREFIX

logger = logging.getLogger(__name__)

DEFAULT_DEDUPE_SECONDS = 24 * 3600
DEFAULT_PAUSE_SECONDS = 5.0
# One stream entry holds at most this many events: Lua's unpack() is limited to ~8,000 values.
EVENTS_PER_ENTRY = 1000

# KEYS[1] the stream, KEYS[2..k+1] the "seen" keys of the first k events (client ids);
# ARGV[1] the dedupe TTL, then field/value pairs (event_id, encoded event) for every event, then
# the number of events per stream entry. Atomic: a claim is never made without its append.
_APPEND_SCRIPT = """
local claimed = #KEYS - 1
local total = (#ARGV - 2) / 2
local per_entry = tonumber(ARGV[#ARGV])
local fields = {}
local appended = 0
for i = 1, total do
  local keep = true
  if i <= claimed then
    keep = redis.call('SET', KEYS[i + 1], '1', 'NX', 'EX', ARGV[1])
  end
  if keep then
    fields[#fields + 1] = ARGV[2 * i]
    fields[#fields + 1] = ARGV[2 * i + 1]
    appended = appended + 1
  end
  if #fields >= 2 * per_entry then
    redis.call('XADD', KEYS[1], '*', unpack(fields))
    fields = {}
  end
end
if #fields > 0 then
  redis.call('XADD', KEYS[1], '*', unpack(fields))
end
return appended
"""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the API answers: new events taken in, repeats of ones already taken in, and where."""

    accepted: int
    duplicates: int
    path: Literal["sql", "redis"]


class EventSink(Protocol):
    """Takes validated events received at one moment; returns once they are safe."""

    async def submit(self, events: Sequence[Event], received_at: datetime) -> Receipt: ...


class DirectSink:
    """Stores each batch in SQL inside the request (exact duplicates).

    On SQLite concurrent batches share a transaction (`GroupCommitWriter`: one writer at a
    time anyway); on PostgreSQL each batch is its own transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = GroupCommitWriter(engine) if engine.dialect.name == "sqlite" else None

    async def submit(self, events: Sequence[Event], received_at: datetime) -> Receipt:
        batch: list[ReceivedEvent] = [(event, received_at) for event in events]
        if self._writer is not None:
            outcome = await to_thread.run_sync(self._writer.store, batch)
        else:
            outcome = await to_thread.run_sync(store_events, self._engine, batch)
        return Receipt(outcome.inserted, outcome.duplicates, "sql")


class RedisStreamSink:
    """Appends each batch to a Redis Stream; SQL (via `fallback`) whenever Redis fails.

    `duplicates` counts ids repeated in the batch or claimed within the last `dedupe_seconds`
    through Redis; older repeats, or ones first stored by the fallback, are still stored once
    (the database's unique `event_id`) but reported as accepted. After a Redis failure the sink
    writes to SQL for `pause_seconds` before it tries Redis again.
    """

    def __init__(
        self,
        redis: Redis[bytes],
        fallback: EventSink,
        keys: StreamKeys,
        dedupe_seconds: int = DEFAULT_DEDUPE_SECONDS,
        pause_seconds: float = DEFAULT_PAUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._fallback = fallback
        self._keys = keys
        self._dedupe_seconds = dedupe_seconds
        self._pause_seconds = pause_seconds
        self._clock = clock
        self._paused_until = 0.0
        self._script = redis.register_script(_APPEND_SCRIPT)

    async def submit(self, events: Sequence[Event], received_at: datetime) -> Receipt:
        unique, repeats = dedupe((event, received_at) for event in events)
        if not unique:
            return Receipt(0, repeats, "redis")
        if self._clock() < self._paused_until:
            return await self._fallback.submit(events, received_at)
        # Client ids first: only they need a claim, server-made ids are unique by construction.
        ordered = sorted(unique, key=lambda item: item[0].event_id.startswith(SERVER_ID_PREFIX))
        claims = [
            self._keys.seen(event.event_id)
            for event, _ in ordered
            if not event.event_id.startswith(SERVER_ID_PREFIX)
        ]
        args: list[str | bytes | int] = [self._dedupe_seconds]
        for event, at in ordered:
            args.append(event.event_id)
            args.append(encode_event(event, at))
        args.append(EVENTS_PER_ENTRY)
        try:
            appended = await self._script(keys=[self._keys.stream, *claims], args=args)
        except (RedisError, OSError) as error:
            logger.warning("Redis append failed (%s); writing events straight to SQL", error)
            self._paused_until = self._clock() + self._pause_seconds
            return await self._fallback.submit(events, received_at)
        accepted = int(appended)
        return Receipt(accepted, repeats + len(unique) - accepted, "redis")
