"""Token buckets on the event intake and on assign, per API key and per client address; an
empty bucket is a 429 that says which of the two it was.

A bucket holds up to `burst` tokens and refills at `rate` per second. Assign takes one token per
request, the intake one per event (at least one per request, so empty bodies count too). With
Redis the buckets live there, shared by every worker of every host (one atomic script call takes
from both of a request's buckets, after the one token of `prepay`); without Redis, or while Redis
fails, each process keeps its own buckets, so the limit then applies per process. A batch
larger than the burst is charged the whole burst.

The sdk key is public: every visitor of a shop sends with it, so its bucket alone lets one client
spend everyone's budget. Public traffic (an sdk key, or a beacon) is therefore charged to its
client address first (`api.client_address`), then to the key; keys of other scopes are secret
and get the key's bucket only, so a shop backend behind one address is never limited as one
visitor.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from fastapi import HTTPException
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.types import Scope

from api.client_address import ClientAddresses
from experiments.keys import KeyIdentity
from experiments.models.api_key import KeyScope
from experiments.settings import Settings

logger = logging.getLogger(__name__)

LimitName = Literal["assign", "events"]
# Whose bucket: the API key's, or the client address's (public traffic only).
Holder = Literal["key", "client"]
# LocalBuckets looks for refilled buckets to forget once it holds this many (or twice as many
# as after its last look), so a stream of new client addresses cannot grow it without bound.
_SWEEP_SIZE = 10_000

# KEYS the buckets, in order; ARGV rate, burst, cost for each. Charges them in order and stops
# at the first that has not the tokens (charged like the others: refilled, nothing taken). Returns
# {its position (from 1; 0 when every bucket paid), the seconds to wait (as text: a Lua number
# would come back truncated to an integer)}. One call for both of a request's buckets.
_TAKE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
for k = 1, #KEYS do
  local rate = tonumber(ARGV[3 * k - 2])
  local burst = tonumber(ARGV[3 * k - 1])
  local cost = tonumber(ARGV[3 * k])
  local state = redis.call('HMGET', KEYS[k], 'tokens', 'at')
  local tokens = tonumber(state[1]) or burst
  local at = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
  local wait = 0
  if tokens >= cost then
    tokens = tokens - cost
  else
    wait = (cost - tokens) / rate
  end
  redis.call('HSET', KEYS[k], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[k], math.ceil(burst / rate * 1000) + 1000)
  if wait > 0 then
    return {k, tostring(wait)}
  end
end
return {0, '0'}
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """`rate` tokens per second, at most `burst` saved up; a rate of 0 means no limit."""

    rate: float
    burst: int


Charge = tuple[str, int, Limit]
"""A bucket, the tokens to take from it, and its limit."""


class Buckets(Protocol):
    async def take(self, bucket: str, cost: int, limit: Limit) -> float:
        """Take `cost` tokens; 0 when taken, else the seconds until they would be there."""
        ...

    async def take_in_order(self, charges: Sequence[Charge]) -> tuple[int, float]:
        """`take` each charge in order, stopping at the first refused: (its position, the
        seconds to wait), or (-1, 0) when every one was taken."""
        ...


async def _each_in_order(buckets: Buckets, charges: Sequence[Charge]) -> tuple[int, float]:
    for position, (bucket, cost, limit) in enumerate(charges):
        if (wait := await buckets.take(bucket, cost, limit)) > 0:
            return position, wait
    return -1, 0.0


class LocalBuckets:
    """Buckets in this process's memory, used from the event loop's thread only: a `take` has
    no await inside, so it runs whole without a lock. A bucket that has refilled is forgotten
    (a full bucket and none are the same), so only recently charged clients take memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock  # seconds, never going back
        # bucket -> (tokens, when counted, when it will be full again)
        self._state: dict[str, tuple[float, float, float]] = {}
        self._sweep_at = _SWEEP_SIZE

    def __len__(self) -> int:
        return len(self._state)

    async def take(self, bucket: str, cost: int, limit: Limit) -> float:
        now = self._clock()
        tokens, at, _ = self._state.get(bucket, (float(limit.burst), now, now))
        tokens = min(limit.burst, tokens + (now - at) * limit.rate)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / limit.rate
        self._state[bucket] = (tokens, now, now + (limit.burst - tokens) / limit.rate)
        if len(self._state) > self._sweep_at:
            self._forget_full(now)
        return wait

    async def take_in_order(self, charges: Sequence[Charge]) -> tuple[int, float]:
        return await _each_in_order(self, charges)

    def _forget_full(self, now: float) -> None:
        self._state = {bucket: s for bucket, s in self._state.items() if s[2] > now}
        self._sweep_at = max(_SWEEP_SIZE, 2 * len(self._state))


class RedisBuckets:
    """Buckets shared through Redis; this process's own buckets while Redis fails."""

    def __init__(self, client: Redis[bytes], prefix: str, fallback: Buckets) -> None:
        self._script = client.register_script(_TAKE_SCRIPT)
        self._prefix = prefix
        self._fallback = fallback

    async def take(self, bucket: str, cost: int, limit: Limit) -> float:
        return (await self.take_in_order([(bucket, cost, limit)]))[1]

    async def take_in_order(self, charges: Sequence[Charge]) -> tuple[int, float]:
        keys = [f"{self._prefix}:{bucket}" for bucket, _, _ in charges]
        args = [value for _, cost, limit in charges for value in (limit.rate, limit.burst, cost)]
        try:
            position, wait = await self._script(keys=keys, args=args)
        except (RedisError, OSError) as error:
            logger.warning("rate limits: Redis failed (%s); limiting per process", type(error))
            return await self._fallback.take_in_order(charges)
        return int(position) - 1, float(wait)


@dataclass(frozen=True, slots=True)
class _Budget:
    """One of the four budgets: whose (`holder`) and for what (`name`), with its limit, the
    prefix of its buckets' names and the metric label of its 429s."""

    holder: Holder
    name: LimitName
    limit: Limit
    prefix: str
    label: str

    def tokens(self, cost: int) -> int:
        """What `cost` takes from this budget: at least one token, at most the burst; none
        when the budget has no limit (a rate of 0)."""
        return 0 if self.limit.rate <= 0 else min(max(cost, 1), self.limit.burst)

    @classmethod
    def of(cls, holder: Holder, name: LimitName, limit: Limit) -> _Budget:
        if holder == "key":
            return cls(holder, name, limit, f"{name}:", name)
        return cls(holder, name, limit, f"{name}:client:", f"{name}_per_client")


class RateLimiter:
    """The limits of the settings, per key and per client address; `refused` hears the name of
    the bucket of each 429 (a metric label: `assign`, `events`, `assign_per_client`, ...)."""

    def __init__(
        self, settings: Settings, buckets: Buckets, refused: Callable[[str], None]
    ) -> None:
        self._buckets = buckets
        self._refused = refused
        self._clients = ClientAddresses.for_settings(settings)
        assign = Limit(settings.assign_rate_per_second, settings.assign_burst)
        events = Limit(settings.events_rate_per_second, settings.events_burst)
        client_assign = Limit(settings.client_assign_rate_per_second, settings.client_assign_burst)
        client_events = Limit(settings.client_events_rate_per_second, settings.client_events_burst)
        # name -> (the client address's budget, the key's budget)
        self._budgets: dict[LimitName, tuple[_Budget, _Budget]] = {
            "assign": (
                _Budget.of("client", "assign", client_assign),
                _Budget.of("key", "assign", assign),
            ),
            "events": (
                _Budget.of("client", "events", client_events),
                _Budget.of("key", "events", events),
            ),
        }

    async def check(
        self, name: LimitName, key: KeyIdentity, scope: Scope, cost: int = 1, paid: int = 0
    ) -> None:
        """Raise a 429 (with Retry-After) when the request's client (for an sdk key only) or
        `key` has no `cost` tokens left for `name`; `paid` of them were taken from the client's
        bucket already (`prepay`). The client is charged first, so a client refused its own
        budget spends none of the key's."""
        # Awaits nothing but the buckets (one call for both): this runs on every assign (the
        # hot path).
        client, per_key = self._budgets[name]
        charges: list[Charge] = []
        budgets: list[_Budget] = []
        if key.scope is KeyScope.SDK:
            tokens = client.tokens(cost) - paid
            if tokens > 0:
                charges.append((client.prefix + self._clients.of(scope), tokens, client.limit))
                budgets.append(client)
        tokens = per_key.tokens(cost)
        if tokens > 0:
            actor = key.actor
            who = actor.key_name if actor.key_id is None else str(actor.key_id)
            charges.append((per_key.prefix + who, tokens, per_key.limit))
            budgets.append(per_key)
        if not charges:
            return
        refused, wait = await self._buckets.take_in_order(charges)
        if refused >= 0:
            raise self._refusal(budgets[refused], wait)

    async def prepay(self, name: LimitName, scope: Scope, key: KeyIdentity | None) -> int:
        """Before a body is read: one token from the client's bucket, for public traffic (an sdk
        key, or `None`: a beacon, whose key is in the body). The tokens taken, for `check`."""
        client = self._budgets[name][0]
        if (key is not None and key.scope is not KeyScope.SDK) or client.tokens(1) == 0:
            return 0
        bucket = client.prefix + self._clients.of(scope)
        if (wait := await self._buckets.take(bucket, 1, client.limit)) > 0:
            raise self._refusal(client, wait)
        return 1

    def _refusal(self, budget: _Budget, wait: float) -> RateLimitedError:
        self._refused(budget.label)
        return RateLimitedError(budget.holder, budget.name, budget.limit, wait)


class RateLimitedError(HTTPException):
    """A 429 problem document naming the bucket (the key's or the client address's);
    `Retry-After` says when the tokens will be there (whole seconds)."""

    def __init__(self, holder: Holder, name: LimitName, limit: Limit, wait: float) -> None:
        unit = "requests" if name == "assign" else "events"
        whose = "this key's" if holder == "key" else "this client address's"
        super().__init__(
            429,
            f"{whose} {name} limit is {limit.rate:g} {unit}/s (bursts of {limit.burst}); "
            f"retry after {wait:.2f} s",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
        self.limit_name = name
        self.holder = holder
