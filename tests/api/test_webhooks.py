"""Webhooks end to end: the API, a look that changes the verdict, and a real local HTTP
receiver that checks the signature as docs/results.md tells receivers to."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from experiments.db import make_engine
from experiments.settings import Settings, load_settings
from experiments.webhooks.delivery import RetryPolicy, deliver_due
from experiments.webhooks.sender import HttpSender
from experiments.webhooks.targets import TargetPolicy, system_resolver
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.databases import sqlite_only
from tests.experiments.results.simulation import simulate_shop
from tests.experiments.webhooks.helpers import LOCAL_TARGETS, PUBLIC_ADDRESS, TEST_KEY, fixed_keys

SECRET = "receiver-secret-0123456789"
MAX_AGE_SECONDS = 300
# 600 units stop at the first look as 2,000 did (the seeded shop of 300 keeps running), and
# take a third of the time to simulate, load and aggregate.
SHOP_UNITS = 600


class Receiver:
    """Answers 500 to the first `failures` requests, then 200 to correctly signed ones."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.handle(dict(self.headers), body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vekst"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        timestamp = headers["X-Vekst-Timestamp"]
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        signed = hmac.compare_digest(headers["X-Vekst-Signature"], "sha256=" + expected.hexdigest())
        recent = abs(time.time() - int(timestamp)) < MAX_AGE_SECONDS
        if not (signed and recent):
            self.refused += 1
            return 401
        if self.failures > 0:
            self.failures -= 1
            return 500
        self.received.append({"headers": headers, "body": json.loads(body)})
        return 200


def resolve_example(host: str, port: int) -> list[str]:
    """example.com names answer a public address (this machine may have no DNS)."""
    if host == "example.com" or host.endswith(".example.com"):
        return [PUBLIC_ADDRESS]
    return system_resolver(host, port)


def load_shop(engine: Engine, experiment: str) -> None:
    """Six days of a shop whose one-page checkout triples purchases, up to now: its first look
    already stops, and any verdict but "keep running" is a change."""
    start = datetime.now(UTC) - timedelta(days=6)
    raw = simulate_shop(SHOP_UNITS, 2.0, 3, experiment, start, ("multi-step", "one-page"))
    raw.conversions = [row for row in raw.conversions if row["timestamp"] < datetime.now(UTC)]
    raw.load(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """These tests deliver to their own receiver on 127.0.0.1: private targets allowed."""
    return load_settings(
        database_url=database_url,
        admin_key=ADMIN_KEY,
        sdk_key=SDK_KEY,
        start_scheduler=False,
        webhook_allow_private_targets=True,
        encryption_keys=TEST_KEY,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.webhook_targets = TargetPolicy(True, resolve_example)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(failures=1)
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@sqlite_only  # refused before anything is stored
def test_webhook_validation_names_the_field(
    client: TestClient, admin_headers: dict[str, str], sdk_headers: dict[str, str]
) -> None:
    cases = [
        ({"url": "ftp://example.com/x", "events": ["srm_detected"]}, "url"),
        ({"url": "https://example.com/x", "events": ["verdict_flipped"]}, "events"),
        ({"url": "https://example.com/x", "events": []}, "events"),
        ({"url": "https://example.com/x", "events": ["srm_detected"], "secret": "short"}, "secret"),
    ]
    for body, field in cases:
        response = client.post("/v1/webhooks", json=body, headers=admin_headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text
    body = {"url": "https://example.com/x", "events": ["srm_detected"]}
    assert client.post("/v1/webhooks", json=body, headers=sdk_headers).status_code == 403
    assert client.delete("/v1/webhooks/99", headers=admin_headers).status_code == 404
    assert client.get("/v1/webhooks/99/deliveries", headers=admin_headers).status_code == 404


def test_a_secret_is_shown_only_when_the_server_made_it(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    given = {"url": "https://example.com/a", "events": ["srm_detected"], "secret": SECRET}
    created = client.post("/v1/webhooks", json=given, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["secret"] is None
    made = client.post(
        "/v1/webhooks",
        json={"url": "https://example.com/b", "events": ["data_quality"]},
        headers=admin_headers,
    ).json()
    assert len(made["secret"]) >= 32
    listed = client.get("/v1/webhooks", headers=admin_headers)
    assert [hook["url"] for hook in listed.json()] == [
        "https://example.com/…",
        "https://example.com/…",
    ]
    assert SECRET not in listed.text
    assert made["secret"] not in listed.text
    assert "secret" not in listed.json()[0]


def test_a_changed_verdict_reaches_the_receiver_signed_after_a_retry(
    client: TestClient,
    admin_headers: dict[str, str],
    settings: Settings,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = client.post(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["verdict_changed"], "secret": SECRET},
        headers=admin_headers,
    ).json()
    body = experiment_body(key="signed", design={"planned_units_per_variant": 1500})
    assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 201
    assert client.post("/v1/experiments/signed/start", headers=admin_headers).status_code == 200
    engine = make_engine(settings.database_url)
    load_shop(engine, "signed")

    look = client.post("/v1/experiments/signed/snapshots", headers=admin_headers)
    assert look.status_code == 201, look.text
    assert look.json()["decision"]["verdict"] != "keep_running"

    policy = RetryPolicy(max_attempts=3, first_delay_seconds=0.001)
    with caplog.at_level(logging.WARNING):
        send = HttpSender(LOCAL_TARGETS)
        assert deliver_due(engine, send, policy, fixed_keys()) == ["retrying"]  # answered 500
        retry_at = datetime.now(UTC) + timedelta(seconds=1)  # past the 1 ms retry delay
        assert deliver_due(engine, send, policy, fixed_keys(), retry_at) == ["delivered"]
        assert deliver_due(engine, send, policy, fixed_keys(), retry_at) == []  # nothing left
    engine.dispose()
    assert "HTTP 500" in caplog.text
    assert SECRET not in caplog.text

    assert receiver.refused == 0
    [message] = receiver.received
    assert message["headers"]["X-Vekst-Event"] == "verdict_changed"
    payload = message["body"]
    assert payload["experiment"] == "signed"
    assert payload["look"] == look.json()["look"]
    assert payload["verdict"] == look.json()["decision"]["verdict"]
    assert payload["text"].startswith("Vekst, experiment signed (look ")
    assert look.json()["summary"] in payload["text"]

    deliveries = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers)
    [delivery] = deliveries.json()
    assert delivery["status"] == "delivered"
    assert delivery["attempts"] == 2
    assert delivery["response_status"] == 200
    assert SECRET not in deliveries.text

    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=admin_headers).status_code == 204
    assert client.get("/v1/webhooks", headers=admin_headers).json() == []


def test_a_receiver_that_never_answers_ends_failed(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    hook = client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/closed", "events": ["verdict_changed"]},
        headers=admin_headers,
    ).json()
    body = experiment_body(key="unheard", design={"planned_units_per_variant": 1500})
    client.post("/v1/experiments", json=body, headers=admin_headers)
    client.post("/v1/experiments/unheard/start", headers=admin_headers)
    engine = make_engine(settings.database_url)
    load_shop(engine, "unheard")
    assert client.post("/v1/experiments/unheard/snapshots", headers=admin_headers).is_success
    policy = RetryPolicy(max_attempts=2, first_delay_seconds=0.001)
    send = HttpSender(LOCAL_TARGETS, deadline_seconds=2)
    assert deliver_due(engine, send, policy, fixed_keys()) == ["retrying"]
    retry_at = datetime.now(UTC) + timedelta(seconds=3)  # past the retry delay and the timeout
    assert deliver_due(engine, send, policy, fixed_keys(), retry_at) == ["failed"]
    engine.dispose()
    [delivery] = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers).json()
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == 2
    assert delivery["next_attempt_at"] is None
    assert delivery["error"] == "connection failed"  # words, never the exception's text


LOOK_TAKING_REQUESTS = {
    "a new look": ("POST", "/v1/experiments/decided/snapshots"),
    "a stale page": ("GET", "/v1/experiments/decided/results?fresh=true"),
    "a first timeseries": ("GET", "/v1/experiments/decided/results/timeseries?metric=aov"),
    "the stop's final look": ("POST", "/v1/experiments/decided/stop"),
}


@sqlite_only  # which route hands the look on; storing deliveries is proven on both above
@pytest.mark.parametrize("request_name", list(LOOK_TAKING_REQUESTS))
def test_every_route_that_takes_a_look_hands_it_to_the_webhooks(
    client: TestClient, admin_headers: dict[str, str], settings: Settings, request_name: str
) -> None:
    """Results never call the webhooks themselves: each route passes the look it takes on."""
    hook = client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["verdict_changed"]},
        headers=admin_headers,
    ).json()
    body = experiment_body(key="decided", design={"planned_units_per_variant": 1500})
    client.post("/v1/experiments", json=body, headers=admin_headers)
    client.post("/v1/experiments/decided/start", headers=admin_headers)
    engine = make_engine(settings.database_url)
    load_shop(engine, "decided")
    engine.dispose()

    method, url = LOOK_TAKING_REQUESTS[request_name]
    response = client.request(method, url, headers=admin_headers)
    assert response.is_success, response.text
    deliveries = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin_headers)
    assert [(d["event"], d["status"]) for d in deliveries.json()] == [
        ("verdict_changed", "pending")
    ]
