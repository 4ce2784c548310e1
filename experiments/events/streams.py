"""Redis key names of the event stream, and how to connect to Redis for it.

Every key shares one hash tag (the part in braces), so the append script's keys live in one
slot of a Redis Cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

DEFAULT_PREFIX = "{vekst:events}"
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class StreamKeys:
    """The keys under one `prefix`: the stream, its consumer group, dead letters, seen ids."""

    prefix: str = DEFAULT_PREFIX

    @property
    def stream(self) -> str:
        return f"{self.prefix}:stream"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}:dead"

    @property
    def group(self) -> str:
        return "vekst-workers"

    def seen(self, period: int) -> str:
        """The set of client event ids first claimed in dedupe period `period`."""
        return f"{self.prefix}:seen:{period}"


def async_redis(url: str) -> redis.asyncio.Redis[bytes]:
    """A client for the API: fails fast (no retries) so the caller can fall back to SQL."""
    return redis.asyncio.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        retry=redis.asyncio.retry.Retry(NoBackoff(), 0),
    )


def sync_redis(url: str, block_seconds: float) -> redis.Redis[bytes]:
    """A client for the worker; its read timeout leaves room for blocking reads."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS + block_seconds,
        retry=Retry(NoBackoff(), 0),
    )
