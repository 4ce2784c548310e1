"""`/metrics`: protected, counts requests by route template and events by outcome, reads the
stream from Redis, and adds up every worker process of `vekst serve --workers 2`."""

from __future__ import annotations

import re
import ssl
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from experiments.db import make_engine, session_scope
from experiments.results.snapshots import take_snapshot
from experiments.scheduling import Scheduler
from experiments.settings import load_settings
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import START, simulate_shop
from tests.experiments.webhooks.helpers import TEST_KEY, add_webhook
from tests.processes import logging_pids, vekst_server, wait_for_workers

TOKEN = "scrape-token-0123456789"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition `text` (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_need_the_admin_key_or_the_scrape_token(sqlite_url: str) -> None:
    settings = load_settings(
        database_url=sqlite_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY, metrics_token=TOKEN
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        sdk = client.get("/metrics", headers={"Authorization": f"Bearer {SDK_KEY}"})
        assert sdk.status_code == 403
        assert sdk.headers["content-type"].startswith("application/problem+json")
        for secret in (ADMIN_KEY, TOKEN):
            answer = client.get("/metrics", headers={"Authorization": f"Bearer {secret}"})
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/plain")


def test_requests_and_events_are_counted(sqlite_url: str, admin_headers, sdk_headers) -> None:
    settings = load_settings(database_url=sqlite_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY)
    with TestClient(create_app(settings)) as client:
        client.post("/v1/experiments", json=experiment_body("m"), headers=admin_headers)
        client.post("/v1/experiments/m/start", headers=admin_headers)
        client.get("/v1/experiments/m", headers=admin_headers)
        client.get("/v1/experiments/absent", headers=admin_headers)
        client.get("/no/such/path")
        exposure = {"type": "exposure", "experiment": "m", "variant": "one-page"}
        batch = [
            {**exposure, "unit_id": "a", "event_id": "e-1"},
            {**exposure, "unit_id": "a", "event_id": "e-1"},  # a repeat
            {"type": "conversion", "unit_id": "a", "name": "purchase", "value": "x"},
            {"type": "nonsense"},
        ]
        answer = client.post("/v1/events", json={"events": batch}, headers=sdk_headers)
        assert answer.json()["accepted"] == 1
        text = client.get("/metrics", headers=admin_headers).text
    histogram = "vekst_http_request_duration_seconds_count"
    assert sample(text, histogram, route="/v1/experiments/{key}", status="2xx") == 1
    assert sample(text, histogram, route="/v1/experiments/{key}", status="4xx") == 1
    assert sample(text, histogram, route="unmatched", status="4xx") == 1
    assert "/no/such/path" not in text and "/v1/experiments/absent" not in text
    assert sample(text, "vekst_events_total", outcome="accepted", type="exposure") == 1
    assert sample(text, "vekst_events_total", outcome="duplicate", type="exposure") == 1
    assert sample(text, "vekst_events_total", outcome="rejected", type="conversion") == 1
    assert sample(text, "vekst_events_total", outcome="rejected", type="invalid") == 1


@pytest.mark.redis
def test_the_stream_is_read_from_redis(sqlite_url: str, redis_url: str, admin_headers) -> None:
    prefix = f"{{vekst-test-{uuid.uuid4().hex[:10]}}}"
    settings = load_settings(
        database_url=sqlite_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        redis_url=redis_url,
        event_stream_prefix=prefix,
        start_worker=False,  # nothing drains the stream: the backlog stays
    )
    with TestClient(create_app(settings)) as client:
        event = {"type": "conversion", "unit_id": "a", "name": "purchase"}
        sdk = {"Authorization": f"Bearer {SDK_KEY}"}
        client.post("/v1/events", json={"events": [event]}, headers=sdk)
        text = client.get("/metrics", headers=admin_headers).text
    assert sample(text, "vekst_redis_up") == 1
    assert sample(text, "vekst_stream_backlog_entries") == 1
    assert sample(text, "vekst_stream_dead_letters") == 0
    assert sample(text, "vekst_worker_lag_seconds") > 0


@pytest.mark.processes
def test_two_worker_processes_report_together(sqlite_url: str, tmp_path: Path) -> None:
    """Requests answered by both workers are counted by each scrape, whichever worker answers.

    The workers share one listening socket and whichever is free accepts: on a loaded machine
    one of them once accepted all 120 connections of a single burst. So the probes go in rounds
    of 40 until the request log shows both processes answering (at most 10 rounds), and the
    scrapes must count exactly the probes sent. The rounds begin once both workers have started:
    the server answers as soon as the first one has, and on a loaded machine the second once took
    longer than all ten rounds."""
    settings = {
        "VEKST_DATABASE_URL": sqlite_url,
        "VEKST_ADMIN_KEY": ADMIN_KEY,
        "VEKST_SDK_KEY": SDK_KEY,
    }
    # A new connection for every request, scrapes too: the workers share them out.
    admin = {"Authorization": f"Bearer {ADMIN_KEY}", "Connection": "close"}
    with vekst_server(settings, tmp_path, workers=2) as server, httpx.Client() as client:
        wait_for_workers(server, 2)
        healthz = "vekst_http_request_duration_seconds_count"
        before = sample(
            client.get(f"{server.url}/metrics", headers=admin).text, healthz, route="/healthz"
        )
        tls = ssl.create_default_context()

        def probe(_: int) -> int:
            # (A client each: through one shared client the requests came so fast that one
            # worker could accept them all. The clients share one TLS context: building one
            # costs ~25 ms of CPU, and these are plain-HTTP requests.)
            url = f"{server.url}/healthz"
            return httpx.get(url, headers={"Connection": "close"}, verify=tls).status_code

        sent = 0
        with ThreadPoolExecutor(8) as pool:
            for _ in range(10):
                assert set(pool.map(probe, range(40))) == {200}
                sent += 40
                if len(logging_pids(server.log, route="/healthz")) == 2:
                    break
        for _ in range(10):
            text = client.get(f"{server.url}/metrics", headers=admin).text
            assert sample(text, healthz, route="/healthz") == before + sent
    # Both workers answered (the request log names the process), and each scrape, answered by
    # one of them, saw the requests of both.
    assert len(logging_pids(server.log, route="/healthz")) == 2


def test_scheduled_looks_and_webhook_deliveries_are_counted(sqlite_url: str, admin_headers) -> None:
    """The server's telemetry is its scheduler's observer: looks and deliveries in the scrape."""
    settings = load_settings(
        database_url=sqlite_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        start_scheduler=False,
        encryption_keys=TEST_KEY,
    )
    engine = make_engine(sqlite_url)
    start_experiment(engine, design={"planned_units_per_variant": 1500})
    simulate_shop(400, uplift=0.0, seed=1).load(engine)
    with session_scope(engine) as session:
        add_webhook(session, "http://127.0.0.1:9/hook")
        # A stored verdict the next look changes, so the look queues a delivery.
        look = take_snapshot(session, "exp", START + timedelta(days=1), on_new_look=None)
        look.sums = {**look.sums, "facts": {**look.sums["facts"], "verdict": "stop"}}
        session.add(look)
    app = create_app(settings)
    with TestClient(app) as client:
        before = client.get("/metrics", headers=admin_headers).text
        refused = Scheduler(engine, settings, app.state.telemetry, lambda *_: 503)
        refused.run_once(START + timedelta(days=3))
        assert refused.wait_for_deliveries(5)
        refused.close()
        text = client.get("/metrics", headers=admin_headers).text
    engine.dispose()
    for outcome in ("delivered", "retrying", "failed"):  # exported at 0 before any attempt
        assert f'vekst_webhook_deliveries_total{{outcome="{outcome}"}} 0.0' in before
    assert sample(before, "vekst_snapshot_duration_seconds_count") == 0
    assert sample(text, "vekst_snapshot_duration_seconds_count") == 1
    assert sample(text, "vekst_snapshot_duration_seconds_sum") > 0
    assert sample(text, "vekst_snapshots_skipped_total") == 0
    assert sample(text, "vekst_webhook_deliveries_total", outcome="retrying") == 1
    assert sample(text, "vekst_webhook_deliveries_total", outcome="delivered") == 0
