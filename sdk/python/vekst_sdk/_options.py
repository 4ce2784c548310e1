"""The one definition of how a client sends its events (batches, bounds, retries)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """How a :class:`Client` sends events; pass it as ``options=`` to either constructor.

    ``flush_interval``: seconds between sends of queued events; ``max_batch_size``: events per
    request (at least 1); ``max_queue_size``: events held in memory, new ones are dropped
    beyond it (at least 1); ``exposure_cache_size``: recent exposures remembered so that each
    is sent once; ``max_retries``: retries of a failed request (at least 0); ``backoff_base``:
    the longest pause in seconds before the first retry, doubling for each next one (with
    jitter, up to 30 s); ``request_timeout``: seconds per HTTP request. The bounds are checked
    when the client is built to send events.
    """

    flush_interval: float = 1.0
    max_batch_size: int = 1000
    max_queue_size: int = 100_000
    exposure_cache_size: int = 100_000
    max_retries: int = 5
    backoff_base: float = 0.5
    request_timeout: float = 10.0
