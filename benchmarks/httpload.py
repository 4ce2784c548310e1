"""Helpers for HTTP benchmarks: start uvicorn servers and load them with wrk from another process.

wrk comes from Debian's packages (`apt-get install wrk`). Each server is one uvicorn worker with
uvloop and httptools; servers are loaded one at a time so they never share the CPU.
"""

from __future__ import annotations

import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx

# The load generator is one address standing for a whole shop's visitors: its budget per client
# address is set out of reach. The bucket is still charged, so its cost is in the figures.
MANY_VISITORS_ENV = {
    f"VEKST_CLIENT_{route}_{name}": value
    for route in ("ASSIGN", "EVENTS")
    for name, value in (("RATE_PER_SECOND", "1e12"), ("BURST", "1000000000000"))
}


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def uvicorn_server(
    factory: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    app_dir: Path | None = None,
) -> Iterator[str]:
    """Run `uvicorn --factory factory` on a free port (its output appended to `log`, if given;
    `factory` imported from `app_dir`, if given); yield its base URL."""
    with uvicorn_server_process(factory, env, log, app_dir) as (base, _process):
        yield base


@contextmanager
def uvicorn_server_process(
    factory: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    app_dir: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`uvicorn_server`, yielding the process too."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    if app_dir is not None:
        command += ["--app-dir", str(app_dir)]
    if log is None:
        with _serving(command, env, port) as served:
            yield served
        return
    with log.open("ab") as output, _serving(command, env, port, output) as served:
        yield served


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def vekst_serve(env: Mapping[str, str], log: Path, workers: int = 1) -> Iterator[str]:
    """Run `vekst serve` as shipped (its request log on, written to `log`); yield its URL."""
    with vekst_serve_process(env, log, workers) as (base, _process):
        yield base


@contextmanager
def vekst_serve_process(
    env: Mapping[str, str], log: Path, workers: int = 1
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`vekst_serve`, yielding the process too (its pid, to signal it or read its memory)."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("vekst")), "serve", "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    with log.open("ab") as output, _serving(command, env, port, output) as served:
        yield served


@contextmanager
def _serving(
    command: list[str], env: Mapping[str, str] | None, port: int, output: IO[bytes] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    process = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, stdout=output, stderr=output
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"server {command} did not start") from None
                time.sleep(0.1)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def wrk_requests_per_second(
    url: str, lua: str, duration: int, connections: int = 32, threads: int = 1
) -> float:
    """Run wrk with the given Lua script; return requests/s. Any non-2xx answer is an error."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "load.lua"
        script.write_text(lua)
        output = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
             "-s", str(script), url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw error responses:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{output}")
    return float(match.group(1))


def checkout_experiment(key: str) -> dict[str, Any]:
    """The body of the two-variant checkout experiment the HTTP benchmarks assign and count."""
    return {
        "key": key,
        "name": "One-page checkout",
        "template": "checkout",
        "variants": [
            {"key": "multi-step", "name": "Multi", "weight": 1, "payload": {"layout": "multi"}},
            {"key": "one-page", "name": "One", "weight": 1, "payload": {"layout": "one"}},
        ],
    }


def median(values: list[float]) -> float:
    return statistics.median(values)
