"""The one definition of how a client sends its events (batches, bounds, retries)."""

from __future__ import annotations

from dataclasses import dataclass

from vekst_sdk._sticky import StickyStore


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """How a :class:`Client` sends events and keeps sticky assignments; pass it as
    ``options=`` to either constructor.

    The bounds (``max_batch_size`` and ``max_queue_size`` at least 1, ``max_retries`` at
    least 0) are checked when a client is built to send events.
    """

    flush_interval: float = 1.0
    """Seconds between sends of queued events."""
    max_batch_size: int = 1000
    """Events per request."""
    max_queue_size: int = 100_000
    """Events held in memory; new ones are dropped beyond it (with one logged error)."""
    exposure_cache_size: int = 100_000
    """Recent exposures remembered, so that each is sent once."""
    max_retries: int = 5
    """Retries of a request that failed (5xx, 429 or a network error)."""
    backoff_base: float = 0.5
    """The longest pause in seconds before the first retry; it doubles for each next one (with
    jitter, up to 30 s)."""
    request_timeout: float = 10.0
    """Seconds per HTTP request."""
    sticky_store: StickyStore | None = None
    """Where sticky experiments keep each unit's first variant: ``None`` gives the client its
    own :class:`MemoryStickyStore` (this process only, at most 100,000 entries, least recently
    used out); ``vekst_sdk.sticky_redis.RedisStickyStore`` shares them between processes."""
