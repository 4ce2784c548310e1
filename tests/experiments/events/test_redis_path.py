"""The Redis Stream path in-process, against a real Redis and both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import redis.asyncio
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from experiments.db import make_engine
from experiments.events.sinks import DirectSink, Receipt, RedisStreamSink
from experiments.events.streams import StreamKeys, async_redis, sync_redis
from experiments.events.summary import stream_backlog
from experiments.events.types import ConversionEvent, Event, ExposureEvent
from experiments.events.worker import StreamWorker, WorkerOptions
from experiments.models.event import Conversion, Exposure
from tests.experiments.events.helpers import NOW, exposures, purchases
from tests.processes import free_port

FAST = WorkerOptions(block_seconds=0.1, claim_idle_seconds=0.2, claim_every_seconds=0.1)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def submit(url: str, engine: Engine, keys: StreamKeys, events: list[Event]) -> Receipt:
    async def go() -> Receipt:
        client = async_redis(url)
        try:
            sink = RedisStreamSink(client, DirectSink(engine), keys)
            return await sink.submit(events, datetime.now(UTC))
        finally:
            await client.aclose()  # type: ignore[attr-defined]

    return asyncio.run(go())


def backlog(url: str, keys: StreamKeys) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        client = async_redis(url)
        try:
            return await stream_backlog(client, keys)
        finally:
            await client.aclose()  # type: ignore[attr-defined]

    return asyncio.run(go())


def stored_counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        exposure_count = connection.execute(select(func.count()).select_from(Exposure)).scalar()
        conversion_count = connection.execute(select(func.count()).select_from(Conversion)).scalar()
    return int(exposure_count or 0), int(conversion_count or 0)


def drain(worker: StreamWorker) -> int:
    total = 0
    while stored := worker.read_once():
        total += stored
    return total


def test_batches_flow_through_the_stream_once(
    redis_url: str, engine: Engine, keys: StreamKeys
) -> None:
    first = submit(redis_url, engine, keys, exposures(1500) + purchases(500))
    assert first == Receipt(2000, 0, "redis")
    assert backlog(redis_url, keys)["entries"] == 2  # 1,000 events per entry
    repeat = submit(redis_url, engine, keys, exposures(10) + purchases(3, "new"))
    assert repeat == Receipt(3, 10, "redis")
    worker = StreamWorker(sync_redis(redis_url, 0.1), engine, keys, FAST)
    worker.ensure_group()
    assert drain(worker) == 2003
    assert stored_counts(engine) == (1500, 503)
    assert backlog(redis_url, keys)["entries"] == 0


def test_each_event_keeps_its_source_through_the_stream(
    redis_url: str, engine: Engine, keys: StreamKeys
) -> None:
    sent: list[Event] = [
        ExposureEvent("x-sdk", "u", NOW, "checkout", "a"),
        ExposureEvent("x-admin", "u", NOW, "checkout", "a", "admin"),
        ConversionEvent("p-server", "u", NOW, "purchase", 649.0, None, "server"),
        ConversionEvent("p-sdk", "u", NOW, "purchase", 1e12, None, "sdk"),
    ]
    assert submit(redis_url, engine, keys, sent) == Receipt(4, 0, "redis")
    worker = StreamWorker(sync_redis(redis_url, 0.1), engine, keys, FAST)
    worker.ensure_group()
    assert drain(worker) == 4
    with engine.connect() as connection:
        rows = [
            *connection.execute(select(Exposure.event_id, Exposure.source)),  # type: ignore[call-overload]
            *connection.execute(select(Conversion.event_id, Conversion.source)),  # type: ignore[call-overload]
        ]
    assert dict(rows) == {"x-sdk": "sdk", "x-admin": "admin", "p-server": "server", "p-sdk": "sdk"}


def test_duplicate_ids_through_two_sinks_and_two_workers(
    redis_url: str, engine: Engine, keys: StreamKeys
) -> None:
    receipts = [submit(redis_url, engine, keys, purchases(200)) for _ in range(2)]
    assert sorted(receipt.accepted for receipt in receipts) == [0, 200]
    # Claims gone (TTL passed, say): the stream now carries the same ids twice.
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys(f"{keys.prefix}:seen:*"))
    assert submit(redis_url, engine, keys, purchases(200)).accepted == 200
    workers = [StreamWorker(sync_redis(redis_url, 0.1), engine, keys, FAST) for _ in range(2)]
    workers[0].ensure_group()
    client.close()
    stored = sum(drain(worker) for worker in workers)
    assert stored == 200
    assert stored_counts(engine) == (0, 200)


def test_pending_entries_of_a_dead_consumer_are_reclaimed(
    redis_url: str, engine: Engine, keys: StreamKeys
) -> None:
    submit(redis_url, engine, keys, exposures(50))
    dead = StreamWorker(sync_redis(redis_url, 0.1), engine, keys, FAST, consumer="dead")
    dead.ensure_group()
    client = redis.Redis.from_url(redis_url)
    # The dead consumer read the entry and stopped before storing or acknowledging it.
    client.xreadgroup(keys.group, "dead", {keys.stream: ">"}, count=10)
    assert backlog(redis_url, keys)["pending"] == 1
    client.close()
    survivor = StreamWorker(sync_redis(redis_url, 0.1), engine, keys, FAST)
    assert survivor.read_once() == 0  # nothing new to read
    asyncio.run(asyncio.sleep(0.3))
    assert survivor.reclaim() == 50
    assert stored_counts(engine) == (50, 0)
    assert backlog(redis_url, keys) == {
        "stream": keys.stream,
        "entries": 0,
        "pending": 0,
        "consumers": 2,
        "dead_letters": 0,
    }


def test_unreadable_entry_is_moved_aside(redis_url: str, engine: Engine, keys: StreamKeys) -> None:
    client = redis.Redis.from_url(redis_url)
    worker = StreamWorker(sync_redis(redis_url, 0.1), engine, keys, FAST)
    worker.ensure_group()
    client.xadd(keys.stream, {"junk": "not an event"})
    submit(redis_url, engine, keys, purchases(5))
    assert drain(worker) == 5
    assert client.xlen(keys.dead_letters) == 1 and client.xlen(keys.stream) == 0
    client.close()


def test_unreachable_redis_falls_back_to_sql(engine: Engine) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    receipt = submit(url, engine, StreamKeys(), purchases(20) + purchases(5))
    assert receipt == Receipt(20, 5, "sql")
    assert stored_counts(engine) == (0, 20)


def test_repeats_are_recognised_for_one_to_two_dedupe_periods(
    redis_url: str, engine: Engine, keys: StreamKeys
) -> None:
    period = 1000
    start = datetime(2026, 11, 23, tzinfo=UTC)
    start -= timedelta(seconds=start.timestamp() % period)  # the first second of a period

    def duplicates_at(offset_seconds: float) -> int:
        async def go() -> int:
            client = async_redis(redis_url)
            try:
                sink = RedisStreamSink(client, DirectSink(engine), keys, dedupe_seconds=period)
                moment = start + timedelta(seconds=offset_seconds)
                return (await sink.submit(purchases(3, prefix="d"), moment)).duplicates
            finally:
                await client.aclose()  # type: ignore[attr-defined]

        return asyncio.run(go())

    assert duplicates_at(0) == 0
    assert duplicates_at(999) == 3  # same period
    assert duplicates_at(1999) == 3  # the next period still sees the previous one's claims
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys(f"{keys.prefix}:seen:*"))
    assert duplicates_at(0) == 0
    assert duplicates_at(2000) == 0  # two periods later the claim is forgotten
    assert 0 < client.ttl(keys.seen(2 + int(start.timestamp()) // period)) <= 2 * period
    client.close()
