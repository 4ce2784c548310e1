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
from functools import partial
from typing import Literal, Protocol

import orjson
from anyio import to_thread
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import Engine

from experiments.events.entries import EVENTS_PER_ENTRY, encode_events, encode_received
from experiments.events.group_commit import GroupCommitWriter
from experiments.events.isolation import OUTAGES, Refusal, store_isolating
from experiments.events.store import ReceivedEvent, store_events
from experiments.events.streams import StreamKeys
from experiments.events.types import Event
from experiments.events.validation import SERVER_ID_PREFIX
from experiments.settings import DEFAULT_EVENT_DEDUPE_HOURS

logger = logging.getLogger(__name__)

DEFAULT_DEDUPE_SECONDS = round(DEFAULT_EVENT_DEDUPE_HOURS * 3600)
DEFAULT_PAUSE_SECONDS = 5.0

# KEYS[1] the stream, KEYS[2] the set of ids claimed in the current dedupe period, KEYS[3] the
# set of the period before. ARGV[1] the sets' lifetime (two periods), ARGV[2] the receive time,
# ARGV[3] events per entry, ARGV[4] the number of events, ARGV[5] a JSON array of the client ids
# of the first events (those that need a claim), then one JSON array of events per entry (see
# `entries`). An id is a repeat when either set holds it; new ids join the current set. Every
# entry is appended, listing the positions of repeats in its `skip` field (an entry of repeats
# only is not appended). Atomic: a claim is never made without its append. Set commands take
# many ids at once, so a 500-event batch costs Redis a handful of commands, not 500.
_APPEND_SCRIPT = """
local per_entry = tonumber(ARGV[3])
local total = tonumber(ARGV[4])
local ids = cjson.decode(ARGV[5])
local skipped = {}
local repeats = 0
local chunk = 1000
for first = 1, #ids, chunk do
  local last = math.min(first + chunk - 1, #ids)
  local now = redis.call('SMISMEMBER', KEYS[2], unpack(ids, first, last))
  local before = redis.call('SMISMEMBER', KEYS[3], unpack(ids, first, last))
  local fresh = {}
  for k = first, last do
    if now[k - first + 1] == 1 or before[k - first + 1] == 1 then
      local index = k - 1
      local entry = math.floor(index / per_entry) + 1
      local list = skipped[entry] or {}
      list[#list + 1] = index % per_entry
      skipped[entry] = list
      repeats = repeats + 1
    else
      fresh[#fresh + 1] = ids[k]
    end
  end
  if #fresh > 0 then
    redis.call('SADD', KEYS[2], unpack(fresh))
  end
end
if #ids > 0 then
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
for entry = 1, #ARGV - 5 do
  local size = math.min(per_entry, total - (entry - 1) * per_entry)
  local list = skipped[entry]
  if list == nil then
    redis.call('XADD', KEYS[1], '*', 'r', ARGV[2], 'events', ARGV[5 + entry])
  elseif #list < size then
    redis.call('XADD', KEYS[1], '*', 'r', ARGV[2], 'events', ARGV[5 + entry],
      'skip', table.concat(list, ','))
  end
end
return total - repeats
"""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the API answers: new events taken in, repeats of ones already taken in, and where;
    `refused`: events the database would not store (position in the events submitted, reason),
    which only validation's gaps can produce."""

    accepted: int
    duplicates: int
    path: Literal["sql", "redis"]
    refused: tuple[Refusal, ...] = ()


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
        try:
            if self._writer is not None:
                outcome = await to_thread.run_sync(self._writer.store, batch)
            else:
                outcome = await to_thread.run_sync(store_events, self._engine, batch)
        except OUTAGES:
            raise
        except Exception:  # the data: store the rest, refuse only what the database refuses
            store = partial(store_events, self._engine)
            outcome, refused = await to_thread.run_sync(store_isolating, store, batch)
            logger.error("direct SQL path: the database refused %d events", len(refused))
            return Receipt(outcome.inserted, outcome.duplicates, "sql", tuple(refused))
        return Receipt(outcome.inserted, outcome.duplicates, "sql")


def _claims(events: Sequence[Event]) -> tuple[list[Event], list[Event], list[str]]:
    """The events to append, repeats within the batch left out: those with client ids (which
    need a claim), those with server-made ids (unique by construction), and the client ids.

    Written for the usual batch (no repeats, one kind of id): a few passes in C, not a loop.
    """
    ids = [event.event_id for event in events]
    if len(set(ids)) < len(ids):
        firsts = {event.event_id: event for event in reversed(events)}
        events = [event for event in events if firsts[event.event_id] is event]
        ids = [event.event_id for event in events]
    server_made = [event_id.startswith(SERVER_ID_PREFIX) for event_id in ids]
    if not any(server_made):
        return list(events), [], ids
    claimed = [event for event, made in zip(events, server_made, strict=True) if not made]
    unclaimed = [event for event, made in zip(events, server_made, strict=True) if made]
    return claimed, unclaimed, [event.event_id for event in claimed]


class RedisStreamSink:
    """Appends each batch to a Redis Stream; SQL (via `fallback`) whenever Redis fails.

    `duplicates` counts ids repeated in the batch or claimed through Redis in the current or the
    previous period of `dedupe_seconds` (so for at least one period, at most two); older repeats,
    or ones first stored by the fallback, are still stored once (the database's unique
    `event_id`) but reported as accepted. After a Redis failure the sink writes to SQL for
    `pause_seconds` before it tries Redis again.
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
        claimed, unclaimed, claimed_ids = _claims(events)
        repeats = len(events) - len(claimed) - len(unclaimed)
        if not claimed and not unclaimed:
            return Receipt(0, repeats, "redis")
        ordered = claimed + unclaimed
        period = int(received_at.timestamp() // self._dedupe_seconds)
        keys = [self._keys.stream, self._keys.seen(period), self._keys.seen(period - 1)]
        args: list[str | bytes | int] = [
            2 * self._dedupe_seconds,
            encode_received(received_at),
            EVENTS_PER_ENTRY,
            len(ordered),
            orjson.dumps(claimed_ids),
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
