"""Events and services shared by the event tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import redis

from experiments.events.types import ConversionEvent, Event, ExposureEvent
from tests.processes import free_port
from tests.waiting import wait_until

NOW = datetime.now(UTC).replace(microsecond=0)


def exposures(count: int, prefix: str = "x", experiment: str = "checkout") -> list[Event]:
    return [
        ExposureEvent(f"{prefix}{i}", f"unit-{i}", NOW, experiment, ("a", "b")[i % 2])
        for i in range(count)
    ]


def purchases(count: int, prefix: str = "p") -> list[Event]:
    return [
        ConversionEvent(f"{prefix}{i}", f"unit-{i}", NOW, "purchase", 100.0 + i, {"n": i})
        for i in range(count)
    ]


def _answers(client: redis.Redis[bytes]) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway redis-server on a free port (never the machine's shared one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        wait_until(lambda: _answers(client), 10, f"{url} to answer", every=0.05)
        yield url, process
    finally:
        client.close()
        process.kill()
        process.wait()
