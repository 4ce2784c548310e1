"""A real API server for end-to-end tests: a uvicorn process, or uvicorn in a thread.

`running_api` starts `python -m uvicorn --factory api.app:create_app_from_environment`: for
tests of what a process does (its workers, its environment, its signals). `serving_api` serves
the same app in a thread of the test process, on a real port: for tests of what a browser or a
client does over HTTP, which need no process of their own and are spared its start (about 2 s of
CPU importing the app, and as long again waiting for it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from api.app import create_app
from experiments.settings import load_settings
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.processes import free_port, wait_until_serving
from tests.waiting import wait_until

STOP_SECONDS = 30.0


@contextmanager
def running_api(database_url: str, *, workers: int = 1, **settings: str) -> Iterator[str]:
    """Serve the API on a free port with the test keys (in `workers` processes); yield its
    base URL."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("VEKST_")}
    env.update(
        VEKST_DATABASE_URL=database_url,
        VEKST_ADMIN_KEY=ADMIN_KEY,
        VEKST_SDK_KEY=SDK_KEY,
        **settings,
    )
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app_from_environment"]
    options = ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    process = subprocess.Popen([*command, *options], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, 60)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # never left running to fail a later test with a ResourceWarning
            process.wait()


@contextmanager
def serving_api(database_url: str, **settings: object) -> Iterator[str]:
    """Serve the API with the test keys on a free port from a thread of this process (its
    lifespan, scheduler included, runs as `vekst serve` runs it); yield its base URL.

    `settings` are `Settings` fields (`cors_origins=[...]`), as `load_settings` takes them."""
    app = create_app(
        load_settings(database_url=database_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY, **settings)
    )
    # The standard asyncio loop: uvloop, which `vekst serve` picks, is a C extension with
    # process-wide state, and this process goes on to run every other test.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="serving_api", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 60, "the API to start")
        assert server.started, "the API stopped while starting (its error is printed above)"
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(STOP_SECONDS)
        assert not thread.is_alive(), f"the API did not stop within {STOP_SECONDS:.0f} s"
