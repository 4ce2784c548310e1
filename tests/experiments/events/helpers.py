"""Events and services shared by the event tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import redis

from experiments.events.types import ConversionEvent, Event, ExposureEvent

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url, process
    finally:
        client.close()
        process.kill()
        process.wait()
