"""The Python SDK's client under load and misuse: threads, asyncio, a closed client, the
exposure memory under contention, keys that are not strings, a full queue, a 429."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time

import httpx
import pytest

from tests.sdk.fake_server import FakeServer, config_document, online
from tests.waiting import wait_until
from vekst_sdk import Assignment, AssignmentReason, Client
from vekst_sdk._events import ExposureDeduper


def test_thread_safety_no_lost_or_doubled_exposures() -> None:
    server = FakeServer()
    client = online(server, flush_interval=0.01)
    ids = [f"visitor-{number}" for number in range(2000)]

    def worker() -> None:
        for unit_id in ids:
            client.assign("checkout-onepage", unit_id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    exposed = [event["unit_id"] for event in server.events()]
    assert set(exposed) == set(ids)
    assert len(exposed) <= len(ids) + 16  # a race may expose a unit twice, never lose one


def test_safe_in_async_code() -> None:
    client = Client.from_config(config_document())

    async def handler(unit_id: str) -> str | None:
        return client.assign("checkout-onepage", unit_id).variant

    async def main() -> list[str | None]:
        return await asyncio.gather(*(handler(f"visitor-{n}") for n in range(100)))

    assert set(asyncio.run(main())) == {"multi-step", "one-page"}


def test_events_after_close_are_dropped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    server = FakeServer()
    client = online(server)
    client.track("purchase", "visitor-1", 1.0)
    client.close()
    with caplog.at_level(logging.WARNING, logger="vekst_sdk"):
        client.track("purchase", "visitor-2", 2.0)
        client.track("add_to_cart", "visitor-3")
        late = client.assign("checkout-onepage", "visitor-4")
    assert late.in_experiment  # assignment still works; only the exposure is dropped
    assert [event["unit_id"] for event in server.events()] == ["visitor-1"]
    assert caplog.text.count("the client is closed") == 1


def test_exposure_dedupe_never_misses_a_unit_under_contention() -> None:
    # Lock-free by design: a unit may rarely be reported twice (a harmless repeated exposure),
    # but every unit is reported at least once and no thread reports one twice.
    deduper = ExposureDeduper(1_000_000)
    assignment = Assignment("checkout-onepage", "one-page", None, True, AssignmentReason.SPLIT)
    ids = [f"visitor-{number}" for number in range(3000)]
    reported: list[list[str]] = []
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        reported.append([unit for unit in ids if deduper.first_time(assignment, unit)])

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible to provoke races
    try:
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert set().union(*reported) == set(ids)
    assert all(len(units) == len(set(units)) for units in reported)
    assert sum(len(units) for units in reported) < 1.05 * len(ids)


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")

    def __hash__(self) -> int:
        raise RuntimeError("no hash")


@pytest.mark.parametrize("key", [["checkout-onepage"], {"key": 1}, _Unprintable()])
def test_assign_never_raises_for_any_experiment_key(key: object) -> None:
    client = Client.from_config(config_document())
    result = client.assign(key, "visitor-1")  # type: ignore[arg-type]
    assert result.variant is None and not result.in_experiment


def test_unhashable_experiment_key_is_unknown_not_an_internal_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client.from_config(config_document())
    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        result = client.assign(["checkout-onepage"], "visitor-1")  # type: ignore[arg-type]
    assert result.reason is AssignmentReason.UNKNOWN_EXPERIMENT
    assert "internal error" not in caplog.text


def test_full_queue_drops_new_events_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    server = FakeServer()
    client = online(server, flush_interval=60, max_queue_size=3)
    with caplog.at_level(logging.ERROR, logger="vekst_sdk"):
        for number in range(10):
            client.track("purchase", f"visitor-{number}", 1.0)
    client.close()
    assert [event["unit_id"] for event in server.events()] == [
        "visitor-0",
        "visitor-1",
        "visitor-2",
    ]
    assert caplog.text.count("event queue full") == 1


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    server = FakeServer()
    posted: list[float] = []

    def rate_limited_once(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/events":
            posted.append(time.monotonic())
            if len(posted) == 1:  # what the server's rate limit answers
                return httpx.Response(
                    429,
                    headers={"Retry-After": "1", "Content-Type": "application/problem+json"},
                    json={"status": 429, "title": "Too Many Requests", "detail": "limit"},
                )
        return server.handle(request)

    client = online(server, rate_limited_once)
    client.track("purchase", "visitor-1", 1.0)
    wait_until(lambda: len(posted) == 2)
    client.close()
    assert posted[1] - posted[0] >= 0.95  # not the 1 ms backoff: the server's Retry-After
    assert len(server.events()) == 1
