"""Fixtures of the event tests that use the shared test Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from experiments.events.streams import StreamKeys


@pytest.fixture
def keys(redis_url: str) -> Iterator[StreamKeys]:
    """A unique prefix on the shared test Redis, removed afterwards."""
    prefix = f"{{test-events-{uuid.uuid4().hex[:10]}}}"
    yield StreamKeys(prefix)
    client = redis.Redis.from_url(redis_url)
    names = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if names:
        client.delete(*names)
    client.close()
