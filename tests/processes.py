"""Real `vekst serve` and `vekst worker` processes for the tests of several processes sharing
one database (and Redis): started on free ports, stopped with SIGTERM, their logs kept."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tests.waiting import wait_until

VEKST = str(Path(sys.executable).with_name("vekst"))
START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def vekst_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without VEKST_* settings, plus `settings`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VEKST_")}
    return {**base, **settings}


class Running:
    """A started process; `log` is its combined output once it stopped."""

    def __init__(self, process: subprocess.Popen[bytes], log_path: Path, url: str) -> None:
        self.process = process
        self.url = url
        self._log_path = log_path

    @property
    def log(self) -> str:
        return self._log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@contextmanager
def vekst_process(
    arguments: list[str],
    settings: Mapping[str, str],
    folder: Path,
    port: int | None = None,
    *,
    wait: bool = True,
) -> Iterator[Running]:
    """Run `vekst *arguments`; with `port` (and `wait`), wait until it answers /healthz there."""
    log_path = folder / f"vekst-{arguments[0]}-{port or os.getpid()}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [VEKST, *arguments], env=vekst_env(settings), stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}" if port is not None else ""
    running = Running(process, log_path, url)
    try:
        if port is not None and wait:
            _wait_until_up(running)
        yield running
    finally:
        if process.poll() is None:
            running.stop()


def wait_until_serving(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait until the server at `url` answers /healthz; fails at once if `process` exits."""

    # One client for all the polls: each `httpx.get` would build a TLS context (~50 ms of CPU
    # taken from the server that is starting).
    with httpx.Client(timeout=1) as client:

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"the server for {url} exited with {process.returncode}")
            try:
                return client.get(f"{url}/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, seconds, f"{url}/healthz to answer", every=0.1)


def _wait_until_up(running: Running) -> None:
    try:
        wait_until_serving(running.url, running.process, START_SECONDS)
    except (RuntimeError, AssertionError):
        raise RuntimeError(f"the server did not start:\n{running.log}") from None


@contextmanager
def vekst_server(settings: Mapping[str, str], folder: Path, workers: int = 1) -> Iterator[Running]:
    """`vekst serve` on a free port with `workers` processes."""
    port = free_port()
    arguments = ["serve", "--port", str(port), "--workers", str(workers)]
    with vekst_process(arguments, settings, folder, port) as running:
        yield running


def logging_pids(log: str, **fields: str) -> set[int]:
    """The processes of a `vekst serve` whose JSON log lines hold `fields` (the request log's
    `route="/healthz"`, say), by each line's `pid`."""
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return {
        line["pid"]
        for line in lines
        if all(line.get(name) == value for name, value in fields.items())
    }


def started_workers(log: str) -> set[int]:
    """The worker processes of a `vekst serve` that have finished starting (by its log)."""
    return logging_pids(log, message="Application startup complete.")


def wait_for_workers(server: Running, count: int) -> None:
    """Wait until `count` workers of `server` have started: it answers once the first has, and
    on a loaded machine a second one has taken longer than a test's rounds of requests."""
    wait_until(lambda: len(started_workers(server.log)) >= count, START_SECONDS, "the workers")


@contextmanager
def vekst_servers(settings: Mapping[str, str], folder: Path, count: int) -> Iterator[list[Running]]:
    """`count` `vekst serve` processes on free ports, started together: a start is mostly
    imports, so started one after another they would cost `count` starts."""
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            port = free_port()
            arguments = ["serve", "--port", str(port), "--workers", "1"]
            servers.append(
                stack.enter_context(vekst_process(arguments, settings, folder, port, wait=False))
            )
        for server in servers:
            _wait_until_up(server)
        yield servers
