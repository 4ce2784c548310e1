"""Redis key names of the event stream, and how to connect to Redis for it.

Every key shares one hash tag (the part in braces), so the append script's keys live in one
slot of a Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from experiments.settings import DEFAULT_EVENT_STREAM_PREFIX

CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class StreamKeys:
    """The keys under one `prefix`: the stream, its consumer group, dead letters, seen ids."""

    prefix: str = DEFAULT_EVENT_STREAM_PREFIX

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


NO_PERSISTENCE_WARNING = (
    "Redis keeps the event stream only in memory (appendonly is off): events accepted but not "
    "yet stored are lost if Redis restarts. Enable AOF (appendonly yes, appendfsync everysec)."
)


def persistence_problem(info: Mapping[str, Any]) -> str | None:
    """A warning when Redis's `INFO persistence` shows no append-only file, else None."""
    enabled = info.get("aof_enabled")
    if enabled is None or str(enabled) == "1":
        return None
    return NO_PERSISTENCE_WARNING


def check_persistence(url: str) -> str | None:
    """`persistence_problem` of the Redis at `url` (blocking); None when it cannot be asked."""
    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        info: Mapping[str, Any] = client.info("persistence")
    except (redis.RedisError, OSError):
        return None
    finally:
        client.close()
    return persistence_problem(info)
