"""Token buckets per API key on the event intake and on assign; an empty bucket is a 429.

A bucket holds up to `burst` tokens and refills at `rate` per second. Assign takes one token per
request, the intake one per event (at least one per request, so empty bodies count too). With
Redis the buckets live there, shared by every worker of every host (one atomic script per
request); without Redis, or while Redis fails, each process keeps its own buckets, so the limit
then applies per process. A batch larger than the burst is charged the whole burst.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from fastapi import HTTPException
from redis.asyncio import Redis
from redis.exceptions import RedisError

from experiments.keys import KeyIdentity
from experiments.settings import Settings

logger = logging.getLogger(__name__)

LimitName = Literal["assign", "events"]

# KEYS[1] the bucket; ARGV rate, burst, cost. Returns the seconds to wait (as text: a Lua number
# would come back truncated to an integer), "0" when the tokens were taken.
_TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """`rate` tokens per second, at most `burst` saved up; a rate of 0 means no limit."""

    rate: float
    burst: int


class Buckets(Protocol):
    async def take(self, bucket: str, cost: int, limit: Limit) -> float:
        """Take `cost` tokens; 0 when taken, else the seconds until they would be there."""
        ...


class LocalBuckets:
    """Buckets in this process's memory, used from the event loop's thread only: a `take` has
    no await inside, so it runs whole without a lock."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}

    async def take(self, bucket: str, cost: int, limit: Limit) -> float:
        now = time.monotonic()
        tokens, at = self._state.get(bucket, (float(limit.burst), now))
        tokens = min(limit.burst, tokens + (now - at) * limit.rate)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / limit.rate
        self._state[bucket] = (tokens, now)
        return wait


class RedisBuckets:
    """Buckets shared through Redis; this process's own buckets while Redis fails."""

    def __init__(self, client: Redis[bytes], prefix: str, fallback: Buckets) -> None:
        self._script = client.register_script(_TAKE_SCRIPT)
        self._prefix = prefix
        self._fallback = fallback

    async def take(self, bucket: str, cost: int, limit: Limit) -> float:
        try:
            answer = await self._script(
                keys=[f"{self._prefix}:{bucket}"], args=[limit.rate, limit.burst, cost]
            )
        except (RedisError, OSError) as error:
            logger.warning("rate limits: Redis failed (%s); limiting per process", type(error))
            return await self._fallback.take(bucket, cost, limit)
        return float(answer)


class RateLimiter:
    """The limits of the settings, applied per key; `refused` hears of each 429 (a metric)."""

    def __init__(
        self, settings: Settings, buckets: Buckets, refused: Callable[[LimitName], None]
    ) -> None:
        self._buckets = buckets
        self._refused = refused
        self._limits: dict[LimitName, Limit] = {
            "assign": Limit(settings.assign_rate_per_second, settings.assign_burst),
            "events": Limit(settings.events_rate_per_second, settings.events_burst),
        }

    async def check(self, name: LimitName, key: KeyIdentity, cost: int = 1) -> None:
        """Raise a 429 (with Retry-After) when `key` has no `cost` tokens left for `name`."""
        limit = self._limits[name]
        if limit.rate <= 0:
            return
        actor = key.actor
        bucket = f"{name}:{actor.key_id if actor.key_id is not None else actor.key_name}"
        wait = await self._buckets.take(bucket, min(max(cost, 1), limit.burst), limit)
        if wait > 0:
            self._refused(name)
            raise RateLimitedError(name, limit, wait)


class RateLimitedError(HTTPException):
    """A 429 problem document; `Retry-After` says when the tokens will be there (whole s)."""

    def __init__(self, name: LimitName, limit: Limit, wait: float) -> None:
        unit = "requests" if name == "assign" else "events"
        super().__init__(
            429,
            f"this key's {name} limit is {limit.rate:g} {unit}/s (bursts of {limit.burst}); "
            f"retry after {wait:.2f} s",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
        self.limit_name = name
