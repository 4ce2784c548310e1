"""Crash, concurrency and outage tests with real processes, Redis and PostgreSQL.

Each test starts its own redis-server on a free port, so killing it never touches the machine's
shared Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from experiments.db import make_engine
from experiments.events.entries import EVENTS_PER_ENTRY
from experiments.models.event import Conversion
from experiments.settings import load_settings
from tests import local_http
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.experiments.events.helpers import private_redis
from tests.processes import free_port, wait_until_serving
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.processes]
HEADERS = {"Authorization": f"Bearer {SDK_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def redis_server(redis_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    # redis_url only gates the test on Redis being part of this run (CI has it).
    with private_redis() as server:
        yield server


def purchases(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"event_id": f"{prefix}-{i}", "type": "conversion", "unit_id": f"u{i}", "name": "purchase"}
        for i in range(count)
    ]


def stored(database_url: str) -> tuple[int, int]:
    """(rows, distinct event ids) in `conversions`."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(Conversion)).scalar()
            distinct = connection.execute(
                select(func.count(Conversion.event_id.distinct()))  # type: ignore[attr-defined]
            ).scalar()
    finally:
        engine.dispose()
    return int(rows or 0), int(distinct or 0)


def environment(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("VEKST_")}
    env.update(
        VEKST_DATABASE_URL=database_url,
        VEKST_REDIS_URL=redis_url,
        VEKST_ADMIN_KEY=ADMIN_KEY,
        VEKST_SDK_KEY=SDK_KEY,
        **extra,
    )
    return env


def start_worker(database_url: str, redis_url: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from api.cli import main; main()", "worker"]
    command += ["--claim-idle-seconds", "1", "--entries-per-read", "2"]
    return subprocess.Popen(
        command,
        env=environment(database_url, redis_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkilled_worker_loses_nothing_and_doubles_nothing(
    postgres_url: str, redis_server: tuple[str, Any]
) -> None:
    """20 stream entries (20,000 events; 40 before) read two at a time: ten reads, so the kill
    still lands mid-way (asserted), with entries read but not acknowledged for the second
    worker to reclaim, which is where an event is lost or stored twice."""
    redis_url = redis_server[0]
    total = 20 * EVENTS_PER_ENTRY
    # The test client sends 20,000 events as one address: no per-client budget (rate 0).
    settings = load_settings(
        database_url=postgres_url,
        redis_url=redis_url,
        sdk_key=SDK_KEY,
        start_worker=False,
        client_events_rate_per_second=0,
    )
    with TestClient(create_app(settings)) as client:
        for batch in range(total // 10_000):
            response = client.post(
                "/v1/events", json={"events": purchases(f"b{batch}", 10_000)}, headers=HEADERS
            )
            assert response.json()["accepted"] == 10_000
    assert stored(postgres_url) == (0, 0)
    first = start_worker(postgres_url, redis_url)
    try:
        wait_until(lambda: stored(postgres_url)[0] > 0, 20, "the first worker to store events")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert stored(postgres_url)[0] < total, "the worker finished before it could be killed"
    second = start_worker(postgres_url, redis_url)
    try:
        wait_until(lambda: stored(postgres_url)[0] >= total, 30, "the second worker to catch up")
        time.sleep(1.5)  # room for a wrong second insert of a reclaimed entry to show
    finally:
        second.terminate()
        second.wait(10)
    assert stored(postgres_url) == (total, total)


def start_api(database_url: str, redis_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app_from_environment"]
    command += ["--port", str(port), "--log-level", "warning"]
    # The test sends 6,000 events from one address: no per-client budget (rate 0).
    env = environment(database_url, redis_url, VEKST_CLIENT_EVENTS_RATE_PER_SECOND="0")
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, 60)
    except BaseException:
        process.kill()  # never left running to fail a later test with a ResourceWarning
        process.wait()
        raise
    return process, base


def test_two_api_processes_with_overlapping_ids_store_each_event_once(
    postgres_url: str, redis_server: tuple[str, Any]
) -> None:
    redis_url = redis_server[0]
    apis = [start_api(postgres_url, redis_url) for _ in range(2)]
    try:
        # Every batch goes to both processes at once: 3,000 distinct ids, each sent twice.
        jobs = [(base, purchases(f"c{batch}", 500)) for batch in range(6) for _, base in apis]
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(
                pool.map(
                    lambda job: local_http.post(
                        f"{job[0]}/v1/events", json={"events": job[1]}, headers=HEADERS, timeout=30
                    ).json(),
                    jobs,
                )
            )
        assert sum(answer["accepted"] for answer in answers) == 3000
        assert sum(answer["duplicates"] for answer in answers) == 3000
        wait_until(lambda: stored(postgres_url)[0] >= 3000, 20, "the workers to store the events")
        summary = local_http.get(f"{apis[0][1]}/v1/events/summary", headers=ADMIN).json()
        assert summary["backlog"]["entries"] == 0
    finally:
        for process, _ in apis:
            process.terminate()
            process.wait(10)
    assert stored(postgres_url) == (3000, 3000)


def test_redis_stopped_while_the_api_runs(
    postgres_url: str, redis_server: tuple[str, subprocess.Popen[bytes]]
) -> None:
    redis_url, redis_process = redis_server
    settings = load_settings(
        database_url=postgres_url, redis_url=redis_url, sdk_key=SDK_KEY, admin_key=ADMIN_KEY
    )
    with TestClient(create_app(settings)) as client:
        before = client.post("/v1/events", json={"events": purchases("r", 300)}, headers=HEADERS)
        assert before.json()["accepted"] == 300
        wait_until(lambda: stored(postgres_url)[0] == 300, 10, "the in-process worker")
        redis_process.kill()
        redis_process.wait()
        during = client.post(
            "/v1/events", json={"events": purchases("r", 400)}, headers=HEADERS
        ).json()
        # Written straight to SQL: the 300 already stored are known there, exactly.
        assert (during["accepted"], during["duplicates"]) == (100, 300)
        assert stored(postgres_url) == (400, 400)
        summary = client.get("/v1/events/summary", headers=ADMIN).json()
        assert "unreachable" in summary["backlog"]["error"]
        assert summary["conversions"][0]["count"] == 400
