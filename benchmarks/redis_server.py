"""A private `redis-server` for one benchmark run: on a free port, stopped at the end."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from benchmarks.httpload import free_port


@contextmanager
def redis_server(*options: str) -> Iterator[str]:
    """Run `redis-server --port PORT *options`; yield its URL once it answers a ping."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), *options], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait()
