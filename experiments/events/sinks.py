"""Where accepted batches go: straight into SQL, or onto a Redis Stream for the worker.

Both are `EventSink`s. `DirectSink` stores in the request's own transaction and reports exact
duplicates. `RedisStreamSink` appends the batch with one atomic Lua script (claim each client
`event_id` with SET NX, then XADD the batch as JSON arrays that mark the repeats to skip),
answers after the append, and falls back to `DirectSink` whenever Redis fails, so an accepted
event is never lost.
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

from experiments.events.entries import EVENTS_PER_ENTRY, encode_events, encode_received
from experiments.events.group_commit import GroupCommitWriter
from experiments.events.store import ReceivedEvent, store_events
from experiments.events.streams import StreamKeys
from experiments.events.types import Event
from experiments.events.validation import SERVER_ID_PREFIX

logger = logging.getLogger(__name__)

DEFAULT_DEDUPE_SECONDS = 24 * 3600
DEFAULT_PAUSE_SECONDS = 5.0

# KEYS[1] the stream, KEYS[2..k+1] the "seen" keys of the first k events (those with client ids).
# ARGV[1] the dedupe TTL, ARGV[2] the receive time, ARGV[3] events per entry, ARGV[4] the number
# of events, then one JSON array of events per entry (see `entries`). Claims each id with SET NX
# and appends every entry, listing the positions of ids already claimed in its `skip` field (an
# entry of repeats only is not appended). Atomic: a claim is never made without its append.
_APPEND_SCRIPT = """
local per_entry = tonumber(ARGV[3])
local total = tonumber(ARGV[4])
local skipped = {}
local repeats = 0
for k = 2, #KEYS do
  if not redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[1]) then
    local index = k - 2
    local entry = math.floor(index / per_entry) + 1
    local list = skipped[entry] or {}
    list[#list + 1] = index % per_entry
    skipped[entry] = list
    repeats = repeats + 1
  end
end
for entry = 1, #ARGV - 4 do
  local size = math.min(per_entry, total - (entry - 1) * per_entry)
  local list = skipped[entry]
  if list == nil then
    redis.call('XADD', KEYS[1], '*', 'r', ARGV[2], 'events', ARGV[4 + entry])
  elseif #list < size then
    redis.call('XADD', KEYS[1], '*', 'r', ARGV[2], 'events', ARGV[4 + entry],
      'skip', table.concat(list, ','))
  end
end
return total - repeats
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
        if self._clock() < self._paused_until:
            return await self._fallback.submit(events, received_at)
        # Repeats within the batch go first; then client ids, which need a claim, ahead of
        # server-made ids, which are unique by construction.
        seen: set[str] = set()
        claimed: list[Event] = []
        unclaimed: list[Event] = []
        for event in events:
            event_id = event.event_id
            if event_id in seen:
                continue
            seen.add(event_id)
            if event_id.startswith(SERVER_ID_PREFIX):
                unclaimed.append(event)
            else:
                claimed.append(event)
        repeats = len(events) - len(seen)
        if not seen:
            return Receipt(0, repeats, "redis")
        ordered = claimed + unclaimed
        seen_key = self._keys.seen
        keys = [self._keys.stream, *[seen_key(event.event_id) for event in claimed]]
        args: list[str | bytes | int] = [
            self._dedupe_seconds,
            encode_received(received_at),
            EVENTS_PER_ENTRY,
            len(ordered),
        ]
        for start in range(0, len(ordered), EVENTS_PER_ENTRY):
            args.append(encode_events(ordered[start : start + EVENTS_PER_ENTRY]))
        try:
            appended = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as error:
            logger.warning("Redis append failed (%s); writing events straight to SQL", error)
            self._paused_until = self._clock() + self._pause_seconds
            return await self._fallback.submit(events, received_at)
        accepted = int(appended)
        return Receipt(accepted, repeats + len(ordered) - accepted, "redis")
