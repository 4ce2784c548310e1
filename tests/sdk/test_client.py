"""Client: config polling, exposures, conversions, retries, overrides, status semantics."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx
import pytest

from tests.sdk.fake_server import API, FAST, SDK_KEY, FakeServer, config_document, online
from tests.waiting import wait_until
from vekst_sdk import AssignmentReason, Client
from vekst_sdk.spec import Evaluator


def test_offline_client_assigns_and_sends_nothing() -> None:
    requests: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500)

    client = Client.from_config(config_document(), transport=httpx.MockTransport(record))
    result = client.assign("checkout-onepage", "visitor-1")
    assert result.variant in {"multi-step", "one-page"} and result.in_experiment
    client.track("purchase", "visitor-1", 649.0)
    client.close()
    assert requests == []


def test_polling_uses_etag_and_304() -> None:
    server = FakeServer()
    client = Client(API, SDK_KEY, transport=server.transport(), poll_interval=0.01)
    assert client.wait_until_ready(5)
    wait_until(lambda: len(server.config_requests) >= 3)
    client.close()
    assert "if-none-match" not in server.config_requests[0].headers
    assert all(r.headers["if-none-match"] == '"v1"' for r in server.config_requests[1:])
    assert client.assign("checkout-onepage", "visitor-1").in_experiment


def test_before_the_first_config_assign_returns_not_ready() -> None:
    gate = threading.Event()
    server = FakeServer()

    def slow(request: httpx.Request) -> httpx.Response:
        gate.wait(5)
        return server.handle(request)

    client = Client(API, SDK_KEY, transport=httpx.MockTransport(slow), poll_interval=60)
    result = client.assign("checkout-onepage", "visitor-1")
    assert (result.variant, result.reason) == (None, AssignmentReason.NOT_READY)
    gate.set()
    assert client.wait_until_ready(5)
    client.close()


def test_new_config_replaces_old_and_bad_config_keeps_old() -> None:
    server = FakeServer()
    client = Client(API, SDK_KEY, transport=server.transport(), poll_interval=0.01)
    assert client.wait_until_ready(5)
    server.config = {"version": 99, "experiments": []}
    server.etag = '"v2"'
    wait_until(lambda: len(server.config_requests) >= 4)
    assert client.assign("checkout-onepage", "visitor-1").in_experiment
    server.config = config_document(status="stopped", winner="one-page")
    server.etag = '"v3"'
    wait_until(
        lambda: (
            client.assign("checkout-onepage", "visitor-1").variant == "one-page"
            and not client.assign("checkout-onepage", "visitor-1").in_experiment
        )
    )
    client.close()


def test_exposures_are_logged_once_per_unit_and_flushed_on_close() -> None:
    server = FakeServer()
    client = online(server, flush_interval=60)
    for _ in range(3):
        for number in range(50):
            client.assign("checkout-onepage", f"visitor-{number}")
    client.assign("checkout-onepage", "qa-anna")  # override: no exposure
    client.assign("unknown", "visitor-1")
    client.close()
    events = server.events()
    assert len(events) == 50
    assert {event["unit_id"] for event in events} == {f"visitor-{n}" for n in range(50)}
    first = events[0]
    assert set(first) == {"event_id", "type", "unit_id", "timestamp", "experiment", "variant"}
    assert first["type"] == "exposure" and first["experiment"] == "checkout-onepage"
    assert isinstance(first["timestamp"], int) and len(first["event_id"]) <= 64


def test_exposure_memory_is_bounded() -> None:
    server = FakeServer()
    client = online(server, exposure_cache_size=10, flush_interval=60)
    for number in range(100):
        client.assign("checkout-onepage", f"visitor-{number}")
    client.assign("checkout-onepage", "visitor-0")  # long forgotten: exposed again
    client.assign("checkout-onepage", "visitor-99")  # recent: still deduplicated
    client.close()
    assert len(server.events()) == 101


def test_conversions_wire_format() -> None:
    server = FakeServer()
    client = online(server)
    client.track("purchase", "visitor-1", 649.0, {"payment": "vipps", "items": 2})
    client.track("add_to_cart", "visitor-1")
    client.close()
    purchase, cart = server.events()
    assert purchase["type"] == "conversion" and purchase["name"] == "purchase"
    assert purchase["value"] == 649.0 and purchase["properties"] == {"payment": "vipps", "items": 2}
    assert "value" not in cart and "properties" not in cart


def test_a_backend_sends_its_purchases_with_the_server_key() -> None:
    # The Python SDK runs on backends, so it takes the secret server key (the browser SDK does
    # not); purchases it sends then count in metrics limited to server events.
    server_key = "vk_server_" + "s" * 43
    server = FakeServer(key=server_key)
    client = Client(API, server_key, transport=server.transport(), options=FAST)
    assert client.wait_until_ready(timeout=5)
    client.track("purchase", "visitor-1", 649.0)
    client.close()
    assert [event["name"] for event in server.events()] == ["purchase"]
    assert server.config_requests


def test_retries_keep_event_ids() -> None:
    server = FakeServer()
    server.event_statuses = [503, 429]
    client = online(server)
    client.track("purchase", "visitor-1", 1.0)
    wait_until(lambda: len(server.event_batches) == 3)
    client.close()
    ids = [batch[0]["event_id"] for batch in server.event_batches]
    assert len(set(ids)) == 1


def test_network_errors_are_retried() -> None:
    server = FakeServer()
    failures = [0]

    def flaky(request: httpx.Request) -> httpx.Response:
        if failures[0] < 2:
            failures[0] += 1
            raise httpx.ConnectError("down", request=request)
        return server.handle(request)

    client = online(server, flaky)
    client.track("purchase", "visitor-1", 1.0)
    client.close()
    assert len(server.events()) == 1


def test_client_errors_drop_the_batch_and_log(caplog: pytest.LogCaptureFixture) -> None:
    server = FakeServer()
    server.event_statuses = [400]
    client = online(server)
    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        client.track("purchase", "visitor-1", 1.0)
        wait_until(lambda: len(server.event_batches) == 1)
        client.close()
    assert len(server.event_batches) == 1
    assert "HTTP 400" in caplog.text


def test_gives_up_after_max_retries() -> None:
    server = FakeServer()
    server.event_statuses = [500] * 10
    client = online(server, max_retries=2)
    client.track("purchase", "visitor-1", 1.0)
    client.close()
    assert len(server.event_batches) == 3


def test_bad_input_warns_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    client = Client.from_config(config_document())
    with caplog.at_level(logging.WARNING, logger="vekst_sdk"):
        for unit_id in ["", "x" * 300, None, 12]:
            result = client.assign("checkout-onepage", unit_id)  # type: ignore[arg-type]
            assert (result.variant, result.in_experiment) == ("multi-step", False)
        nested = client.assign("checkout-onepage", "visitor-1", {"cart": {"value": 1}})
        assert nested.reason is AssignmentReason.INVALID_INPUT
        client.track("", "visitor-1")
        client.track("purchase", "visitor-1", float("inf"))
    assert "unit_id" in caplog.text and "attributes.cart" in caplog.text
    assert "dropped event" in caplog.text


def test_internal_failure_returns_control_and_logs_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client.from_config(config_document())

    def broken(*args: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(Evaluator, "assign", broken)
    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        first = client.assign("checkout-onepage", "visitor-1")
        client.assign("checkout-onepage", "visitor-2")
    assert (first.variant, first.in_experiment) == ("multi-step", False)
    assert first.reason is AssignmentReason.ERROR
    assert caplog.text.count("internal error in assign") == 1
    assert client.assign("unknown", "visitor-1").variant is None


def test_status_semantics_and_overrides() -> None:
    document = config_document()
    extra = [
        {**document["experiments"][0], "key": "won", "status": "stopped", "winner": "one-page"},
        {**document["experiments"][0], "key": "halted", "status": "stopped"},
    ]
    document["experiments"].extend(extra)
    client = Client.from_config(
        document, overrides={"checkout-onepage": {"dev-ola": "multi-step", "x": "missing"}}
    )
    won = client.assign("won", "visitor-1")
    assert (won.variant, won.in_experiment, won.reason) == (
        "one-page",
        False,
        AssignmentReason.WINNER,
    )
    halted = client.assign("halted", "visitor-1")
    assert (halted.variant, halted.reason) == ("multi-step", AssignmentReason.STOPPED)
    anna = client.assign("checkout-onepage", "qa-anna")
    assert (anna.variant, anna.in_experiment, anna.reason) == (
        "one-page",
        False,
        AssignmentReason.OVERRIDE,
    )
    assert client.assign("checkout-onepage", "dev-ola").variant == "multi-step"
    assert client.assign("won", "qa-anna").variant == "one-page"
    unknown = client.assign("nope", "visitor-1")
    assert (unknown.variant, unknown.in_experiment) == (None, False)


def test_payload_is_read_only() -> None:
    result = Client.from_config(config_document()).assign("checkout-onepage", "visitor-1")
    with pytest.raises(TypeError):
        result.payload["layout"] = "hacked"
