"""A sticky store in Redis, shared by every process of a shop (install ``vekst-sdk[redis]``).

One string key per (experiment, sticky version, unit): ``<prefix><experiment>:<version>:<unit
id>`` holding the variant key, written with a TTL. Experiment keys have no ``:`` and versions
are integers, so no two entries share a key whatever the unit ids hold.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from vekst_sdk._logging import LOGGER_NAME, OnceLogger

__all__ = ["RedisStickyStore"]

DEFAULT_PREFIX = "vekst:sticky:"
#: A year, as long as the browser SDK keeps its visitor cookie by default.
DEFAULT_TTL_SECONDS = 365 * 86_400


class _Redis(Protocol):
    """The two commands the store uses, as redis-py's ``Redis`` (sync) offers them."""

    def get(self, name: str) -> Any: ...

    def set(self, name: str, value: str, ex: int | None = None) -> Any: ...


class RedisStickyStore:
    """Keeps sticky assignments in Redis through a redis-py client (``redis.Redis``).

    ``prefix`` starts every key (default ``vekst:sticky:``); ``ttl_seconds`` is how long an entry
    lives after it is written (default a year; ``None`` keeps it until Redis evicts it). A Redis
    error is logged once and counts as a miss, so ``assign`` falls back to hashing and never
    fails; the unit is then not kept until Redis answers again.
    """

    def __init__(
        self,
        client: _Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int | None = DEFAULT_TTL_SECONDS,
    ) -> None:
        if ttl_seconds is not None and ttl_seconds < 1:
            raise ValueError("ttl_seconds must be at least 1 (or None: no expiry)")
        self._client = client
        self._prefix = prefix
        self._ttl = ttl_seconds
        self._log = OnceLogger(logging.getLogger(LOGGER_NAME))

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int | None = DEFAULT_TTL_SECONDS,
        timeout_seconds: float = 0.5,
    ) -> RedisStickyStore:
        """A store on a new client for ``url`` (``redis://host:6379/0``), with short timeouts:
        ``assign`` waits at most about ``timeout_seconds`` for an unreachable Redis."""
        import redis  # noqa: PLC0415  # the optional extra, needed only here

        client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            decode_responses=True,
        )
        return cls(client, prefix=prefix, ttl_seconds=ttl_seconds)

    def _key(self, experiment: str, version: int, unit_id: str) -> str:
        return f"{self._prefix}{experiment}:{version}:{unit_id}"

    def get(self, experiment: str, version: int, unit_id: str) -> str | None:
        try:
            value = self._client.get(self._key(experiment, version, unit_id))
        except Exception:
            self._log.error("vekst: Redis sticky store unreachable; hashing", exc_info=True)
            return None
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return value if isinstance(value, str) else None

    def put(self, experiment: str, version: int, unit_id: str, variant: str) -> None:
        try:
            self._client.set(self._key(experiment, version, unit_id), variant, ex=self._ttl)
        except Exception:
            self._log.error("vekst: Redis sticky store unreachable; unit not kept", exc_info=True)
