"""An in-memory twin of the server's SDK endpoints for httpx.MockTransport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from api.cli.demo import demo_experiment
from experiments.models.experiment import Experiment
from experiments.sdk_config import experiment_entry
from vekst_sdk import Client, ClientOptions

SDK_KEY = "sdk-test-key"


def config_experiment(**changes: Any) -> dict[str, Any]:
    """The demo's checkout experiment as the server's config lists it once running, with one QA
    override (qa-anna sees one-page); `changes` added or replacing fields."""
    running = Experiment(
        **demo_experiment("checkout-onepage"),
        salt="9f2c1d0e7a4b",
        status="running",
        unit_type="visitor",
        overrides={"qa-anna": "one-page"},
    )
    return experiment_entry(running) | changes


def config_document(**changes: Any) -> dict[str, Any]:
    """The documented example config with one running experiment."""
    experiment = config_experiment(**changes)
    return {"version": 1, "generated_at": "2026-11-23T12:00:00Z", "experiments": [experiment]}


class FakeServer:
    """Serves a config with an ETag and records event batches; statuses are scriptable."""

    def __init__(self, config: dict[str, Any] | None = None, key: str = SDK_KEY) -> None:
        self.config = config or config_document()
        self.key = key  # the only key it takes
        self.etag = '"v1"'
        self.config_requests: list[httpx.Request] = []
        self.event_batches: list[list[dict[str, Any]]] = []
        self.event_statuses: list[int] = []  # consumed one per POST; then 202
        self.lock = threading.Lock()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return httpx.Response(401)
        if request.url.path == "/v1/sdk/config":
            with self.lock:
                self.config_requests.append(request)
            if request.headers.get("if-none-match") == self.etag:
                return httpx.Response(304)
            return httpx.Response(200, json=self.config, headers={"ETag": self.etag})
        if request.url.path == "/v1/events":
            events = json.loads(request.content)["events"]
            with self.lock:
                self.event_batches.append(events)
                status = self.event_statuses.pop(0) if self.event_statuses else 202
            if status == 202:
                body = {"accepted": len(events), "duplicates": 0, "rejected": []}
                return httpx.Response(202, json=body)
            return httpx.Response(status)
        return httpx.Response(404)

    def events(self) -> list[dict[str, Any]]:
        """All events of successful and failed posts, in order."""
        with self.lock:
            return [event for batch in self.event_batches for event in batch]


API = "https://vekst.test"
Handler = Callable[[httpx.Request], httpx.Response]
FAST = ClientOptions(flush_interval=0.01, backoff_base=0.001)


def online(server: FakeServer, handler: Handler | None = None, **options: Any) -> Client:
    """An online client of `server` (or of `handler`) that sends and retries at once."""
    transport = server.transport() if handler is None else httpx.MockTransport(handler)
    return Client.from_config(
        server.config, API, SDK_KEY, transport=transport, options=replace(FAST, **options)
    )
