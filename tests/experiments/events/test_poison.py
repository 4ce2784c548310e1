"""Poison on the production path (real Redis and PostgreSQL): nothing acknowledged is lost.

Poison reaches the stream behind validation's back (an older API, a bug, a hand-made entry):
events PostgreSQL refuses (NUL in text, a unit id longer than its column), an escaped lone
surrogate, an entry that is not a batch at all. The worker must store everything else once,
dead-letter each poison with its reason, and keep draining.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.engine import Engine

from experiments.db import make_engine
from experiments.events.entries import EVENTS_FIELD, RECEIVED_FIELD, encode_received
from experiments.events.sinks import DirectSink, RedisStreamSink
from experiments.events.streams import StreamKeys, async_redis, sync_redis
from experiments.events.supervisor import BackgroundWorker, Supervisor
from experiments.events.types import ConversionEvent, Event, ExposureEvent
from experiments.events.worker import StreamWorker, WorkerOptions
from experiments.models.event import Conversion, Exposure
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
FAST = WorkerOptions(block_seconds=0.05, claim_idle_seconds=0.2, claim_every_seconds=0.1)
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def good(batch: int, count: int) -> list[Event]:
    events: list[Event] = []
    for i in range(count):
        if i % 2:
            events.append(ExposureEvent(f"g{batch}-{i}", f"u{i}", NOW, "checkout", "a"))
        else:
            events.append(ConversionEvent(f"g{batch}-{i}", f"u{i}", NOW, "purchase", 10.0))
    return events


def poison(batch: int) -> list[Event]:
    return [
        ConversionEvent(f"nul{batch}", "visitor\x00", NOW, "purchase", source="server"),
        ExposureEvent(f"long{batch}", "u" * 300, NOW, "checkout", "a", source="admin"),
    ]


def submit(url: str, engine: Engine, keys: StreamKeys, events: list[Event]) -> int:
    async def go() -> int:
        client = async_redis(url)
        try:
            sink = RedisStreamSink(client, DirectSink(engine), keys)
            receipt = await sink.submit(events, datetime.now(UTC))
            assert receipt.path == "redis"
            return receipt.accepted
        finally:
            await client.aclose()  # type: ignore[attr-defined]

    return asyncio.run(go())


def stored_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        ids = list(connection.execute(select(Exposure.event_id)).scalars())  # type: ignore[call-overload]
        ids += connection.execute(select(Conversion.event_id)).scalars()  # type: ignore[call-overload]
    return ids


def test_poison_is_dead_lettered_and_everything_else_stored_once_while_draining(
    redis_url: str, engine: Engine, keys: StreamKeys
) -> None:
    client = redis.Redis.from_url(redis_url)
    worker = StreamWorker(sync_redis(redis_url, FAST.block_seconds), engine, keys, FAST)
    worker.ensure_group()
    background = BackgroundWorker(worker)
    background.start()
    expected: set[str] = set()
    poisoned: set[str] = set()
    try:
        for batch in range(6):
            events = good(batch, 40)
            if batch % 2 == 0:  # poison in the middle of every other batch
                events[20:20] = poison(batch)
                poisoned |= {f"nul{batch}", f"long{batch}"}
            assert submit(redis_url, engine, keys, events) == len(events)
            expected |= {event.event_id for event in events} - poisoned
        # An escaped lone surrogate, and an entry that is no batch at all.
        surrogate = b'[{"event_id":"lone","unit_id":"\\ud800","timestamp":"%s","name":"x"}]' % (
            NOW.isoformat().encode()
        )
        received = str(encode_received(NOW)).encode()
        client.xadd(keys.stream, {RECEIVED_FIELD: received, EVENTS_FIELD: surrogate})
        client.xadd(keys.stream, {"junk": "not an event"})
        # Events after the poison are stored too.
        after = good(99, 10)
        submit(redis_url, engine, keys, after)
        expected |= {event.event_id for event in after}
        wait_until(
            lambda: not client.xlen(keys.stream) and len(stored_ids(engine)) >= len(expected),
            30,
            "the worker to store every good event",
            every=0.05,
        )
        status = background.status()
    finally:
        background.stop()
    ids = stored_ids(engine)
    assert sorted(ids) == sorted(expected)  # every good event exactly once
    assert status.state == "running" and status.restarts == 0
    letters = client.xrange(keys.dead_letters)
    client.close()
    reasons: dict[str, str] = {}
    sources: dict[str, str] = {}
    for _, fields in letters:
        # An entry that is no batch is moved aside whole, with its own fields and no `events`.
        raws = json.loads(fields[b"events"]) if b"events" in fields else [None]
        for raw in raws:  # json keeps escaped lone surrogates
            name = raw["event_id"] if isinstance(raw, dict) else "entry"
            reasons[name] = fields[b"error"].decode()
            if isinstance(raw, dict) and "source" in raw:
                sources[name] = raw["source"]
    assert set(reasons) == poisoned | {"lone", "entry"}
    assert all("NUL" in reasons[f"nul{b}"] or "0x00" in reasons[f"nul{b}"] for b in (0, 2, 4))
    assert all("too long" in reasons[f"long{b}"] for b in (0, 2, 4))
    assert "surrogate" in reasons["lone"]
    # A dead letter keeps the kind of key that sent the event, so a replay keeps it too.
    assert {sources[f"nul{b}"] for b in (0, 2, 4)} == {"server"}
    assert {sources[f"long{b}"] for b in (0, 2, 4)} == {"admin"}
    assert worker.dead_lettered == len(poisoned) + 2


class _Crashing:
    """A worker loop that dies twice, then runs until stopped."""

    def __init__(self) -> None:
        self.stored = 0
        self.dead_lettered = 0
        self.calls = 0

    def run(self, stop: threading.Event) -> None:
        self.calls += 1
        if self.calls <= 2:
            raise RuntimeError(f"crash {self.calls}")
        stop.wait()


def test_a_dead_worker_loop_is_restarted_with_backoff() -> None:
    stop = threading.Event()
    crashing = _Crashing()
    supervisor = Supervisor(crashing, stop, first_pause=0.01, max_pause=0.02)
    thread = threading.Thread(target=supervisor.run)
    started = time.monotonic()
    thread.start()
    wait_until(lambda: crashing.calls >= 3, 5, "the third start of the loop", every=0.005)
    status = supervisor.status()
    stop.set()
    thread.join(5)
    assert crashing.calls == 3 and status.state == "running"
    assert status.restarts == 2 and status.last_error == "RuntimeError: crash 2"
    assert time.monotonic() - started >= 0.03  # paused 0.01 s, then 0.02 s
    assert supervisor.status().state == "stopped"


def test_idle_consumers_without_pending_entries_are_removed(
    redis_url: str, engine: Engine, keys: StreamKeys
) -> None:
    options = WorkerOptions(block_seconds=0.05, consumer_idle_seconds=0.1)
    live = StreamWorker(sync_redis(redis_url, 0.05), engine, keys, options, consumer="live")
    live.ensure_group()
    client = redis.Redis.from_url(redis_url)
    for name in ("dead-1", "dead-2"):
        client.xgroup_createconsumer(keys.stream, keys.group, name)
    submit(redis_url, engine, keys, good(0, 3))
    client.xreadgroup(keys.group, "holder", {keys.stream: ">"}, count=1)  # holds one entry
    time.sleep(0.2)
    assert live.remove_dead_consumers() == 2
    names = {c["name"].decode() for c in client.xinfo_consumers(keys.stream, keys.group)}
    client.close()
    assert names == {"holder"}  # "live" never read yet; the holder keeps its pending entry


def test_the_direct_path_stores_the_rest_and_refuses_only_the_poison(engine: Engine) -> None:
    events = good(7, 10)
    events[3] = ConversionEvent("nul-direct", "visitor\x00", NOW, "purchase")
    receipt = asyncio.run(DirectSink(engine).submit(events, datetime.now(UTC)))
    assert (receipt.accepted, receipt.duplicates) == (9, 0)
    assert [index for index, _ in receipt.refused] == [3]
    # Refused by the driver (SQLite) or by PostgreSQL reading the binary COPY ("0x00").
    reason = receipt.refused[0][1]
    assert "NUL" in reason or "0x00" in reason
    assert sorted(stored_ids(engine)) == sorted(
        e.event_id for e in events if e.event_id != "nul-direct"
    )
