"""A real API server process (uvicorn) for end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.processes import free_port, wait_until_serving


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
