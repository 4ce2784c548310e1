"""Token buckets per key on assign and on the event intake: 429 with Retry-After and a problem
document; shared through Redis by every process, per process without it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.rate_limits import Limit, LocalBuckets, RedisBuckets
from experiments.events.streams import async_redis
from experiments.settings import load_settings
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY


def _app(sqlite_url: str, **limits: object) -> TestClient:
    settings = load_settings(
        database_url=sqlite_url, admin_key=ADMIN_KEY, sdk_key=SDK_KEY, **limits
    )
    return TestClient(create_app(settings))


def test_assign_answers_429_when_the_bucket_is_empty(sqlite_url: str, sdk_headers) -> None:
    with _app(sqlite_url, assign_rate_per_second=0.5, assign_burst=3) as client:
        answers = [
            client.post("/v1/assign", json={"unit_id": f"u{i}"}, headers=sdk_headers)
            for i in range(4)
        ]
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        other_key = client.post("/v1/assign", json={"unit_id": "u"}, headers=admin)
        scrape = client.get("/metrics", headers=admin).text
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["retry-after"] == "2"  # one token at 0.5/s
    assert "assign limit is 0.5 requests/s" in refused.json()["detail"]
    assert other_key.status_code == 200  # buckets are per key
    assert 'vekst_rate_limited_requests_total{limit="assign"} 1.0' in scrape


def test_events_are_charged_per_event_beacon_included(sqlite_url: str, sdk_headers) -> None:
    event = {"type": "conversion", "unit_id": "u", "name": "purchase"}
    with _app(sqlite_url, events_rate_per_second=1, events_burst=10) as client:
        first = client.post("/v1/events", json={"events": [event] * 8}, headers=sdk_headers)
        beacon = client.post(
            "/v1/events/beacon",
            content=f'{{"sdk_key": "{SDK_KEY}", "events": [{{"type": "conversion", '
            '"unit_id": "u", "name": "purchase"}, {"type": "conversion", "unit_id": "u", '
            '"name": "purchase"}, {"type": "conversion", "unit_id": "u", "name": "x"}]}',
            headers={"Content-Type": "text/plain"},
        )
        empty = client.post("/v1/events", json={"events": []}, headers=sdk_headers)
    assert first.status_code == 202
    assert beacon.status_code == 429 and int(beacon.headers["retry-after"]) >= 1
    assert beacon.json()["status"] == 429
    assert empty.status_code == 202  # two tokens were left; an empty batch costs one


def test_a_limit_of_zero_is_no_limit(sqlite_url: str, admin_headers, sdk_headers) -> None:
    with _app(sqlite_url, assign_rate_per_second=0, assign_burst=1) as client:
        client.post("/v1/experiments", json=experiment_body("x"), headers=admin_headers)
        codes = {
            client.post("/v1/assign", json={"unit_id": "u"}, headers=sdk_headers).status_code
            for _ in range(5)
        }
    assert codes == {200}


def test_local_bucket_refills_at_its_rate() -> None:
    # A clock of the test's own: on a busy machine a millisecond passed between two takes, and
    # the sixth found the token it should have waited for.
    now = [100.0]
    buckets = LocalBuckets(clock=lambda: now[0])
    limit = Limit(rate=1000.0, burst=5)

    async def scenario() -> list[float]:
        waits = [await buckets.take("k", 1, limit) for _ in range(6)]
        now[0] += 0.0005  # half a token's worth
        waits.append(await buckets.take("k", 1, limit))
        now[0] += 0.01  # ten tokens' worth, capped at the burst
        waits.append(await buckets.take("k", 5, limit))
        return waits

    waits = asyncio.run(scenario())
    assert waits[:5] == [0.0] * 5
    assert waits[5] == pytest.approx(0.001)  # the bucket is empty: a token is 1 ms away
    assert waits[6] == pytest.approx(0.0005)  # half a token has come back since
    assert waits[7] == 0.0


@pytest.mark.redis
def test_redis_buckets_are_shared_by_processes(redis_url: str) -> None:
    limit = Limit(rate=0.01, burst=4)
    prefix = f"{{vekst-test-{uuid.uuid4().hex[:10]}}}:rate"

    async def scenario() -> list[float]:
        first, second = async_redis(redis_url), async_redis(redis_url)
        try:
            one = RedisBuckets(first, prefix, LocalBuckets())
            two = RedisBuckets(second, prefix, LocalBuckets())
            waits = [await one.take("events:7", 1, limit), await two.take("events:7", 2, limit)]
            waits.append(await one.take("events:7", 2, limit))
            waits.append(await two.take("events:8", 4, limit))
            return waits
        finally:
            await first.aclose()  # type: ignore[attr-defined]
            await second.aclose()  # type: ignore[attr-defined]

    waits = asyncio.run(scenario())
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(100.0, rel=0.05)  # one token short at 0.01/s
    assert waits[3] == 0.0


def test_local_buckets_forget_refilled_buckets() -> None:
    buckets = LocalBuckets()
    limit = Limit(rate=1e6, burst=2)

    async def scenario() -> list[int]:
        sizes = []
        for round_ in range(3):
            for client in range(8_000):  # a stream of new client addresses
                await buckets.take(f"events:client:{round_}-{client}", 1, limit)
            sizes.append(len(buckets))
            await asyncio.sleep(0.01)  # every bucket refills
        return sizes

    sizes = asyncio.run(scenario())
    assert sizes[0] == 8_000
    assert max(sizes) < 16_000  # refilled buckets were forgotten, not kept for good


@pytest.mark.redis
def test_one_call_charges_buckets_in_order_and_stops_at_the_first_refusal(redis_url: str):
    limit = Limit(rate=0.01, burst=4)
    prefix = f"{{vekst-test-{uuid.uuid4().hex[:10]}}}:rate"

    async def scenario() -> list[tuple[int, float]]:
        client = async_redis(redis_url)
        try:
            redis_buckets = RedisBuckets(client, prefix, LocalBuckets())
            answers = []
            for buckets in (redis_buckets, LocalBuckets()):
                answers.append(
                    await buckets.take_in_order([("client", 3, limit), ("key", 1, limit)])
                )
                # The client is short: the key's bucket is not charged.
                answers.append(
                    await buckets.take_in_order([("client", 2, limit), ("key", 3, limit)])
                )
                answers.append(
                    await buckets.take_in_order([("key", 3, limit), ("client", 1, limit)])
                )
            return answers
        finally:
            await client.aclose()  # type: ignore[attr-defined]

    answers = asyncio.run(scenario())
    for found in (answers[:3], answers[3:]):  # Redis, then this process's buckets
        assert found[0] == (-1, 0.0)
        assert found[1][0] == 0 and found[1][1] == pytest.approx(100.0, rel=0.05)
        assert found[2] == (-1, 0.0)
