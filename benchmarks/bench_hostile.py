"""What the defences against hostile input cost: the text rules on the validation hot path, and
the isolation of a poison event by the stream worker.

Run (the second part needs a PostgreSQL database and a Redis; it uses a fresh schema and a
unique key prefix, and removes both):

    .venv/bin/python -m benchmarks.bench_hostile \\
        --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        --redis-url redis://127.0.0.1:6379/15

1. `validate_batch` on a 500-event batch (250 exposures, 250 conversions with a value and
   properties, as in bench_events), and in the same run the storable-text check alone on the
   batch's 1,000 ids (what the rule adds to the fast path), and `orjson.loads` of the body.
2. `StreamWorker.process` storing 10 entries of 100 events into PostgreSQL: clean, and with one
   event PostgreSQL refuses (NUL in a unit id), which the worker isolates by halving the batch.

Each figure is the median of `--rounds` rounds; the script prints the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import redis

from experiments.db import make_engine
from experiments.events.catalog import ExperimentSnapshot
from experiments.events.entries import EVENTS_FIELD, RECEIVED_FIELD, encode_events
from experiments.events.streams import StreamKeys, sync_redis
from experiments.events.types import ConversionEvent, Event, ExposureEvent, KnownExperiment
from experiments.events.validation import TimeWindow, validate_batch
from experiments.events.worker import StreamWorker, WorkerOptions
from experiments.migrate import upgrade
from tests.services import fresh_postgres_schema

NOW = datetime.now(UTC)
CATALOG = ExperimentSnapshot({"checkout": KnownExperiment("running", frozenset({"a", "b"}))})


def body(size: int = 500) -> bytes:
    events: list[dict[str, Any]] = []
    millis = int(NOW.timestamp() * 1000)
    for i in range(size):
        common = {"event_id": f"e-{i}", "unit_id": f"visitor-{i}", "timestamp": millis}
        if i % 2:
            events.append({**common, "type": "exposure", "experiment": "checkout", "variant": "a"})
        else:
            properties = {"payment": "vipps", "items": 3}
            events.append(
                {
                    **common,
                    "type": "conversion",
                    "name": "purchase",
                    "value": 649.0,
                    "properties": properties,
                }
            )
    return orjson.dumps({"events": events})


def median_us(run: Callable[[], object], rounds: int, repeat: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            run()
        samples.append((time.perf_counter() - started) / repeat * 1e6)
    return statistics.median(samples)


def validation_costs(rounds: int) -> dict[str, float]:
    raw = body()
    events = orjson.loads(raw)["events"]
    window = TimeWindow.at(NOW, 90)
    assert len(validate_batch(events, window, CATALOG).events) == 500

    def validate() -> object:
        return validate_batch(events, window, CATALOG)

    texts = [event[name] for event in events for name in ("event_id", "unit_id")]

    def text_rule() -> object:
        # The storable-text check the fast path runs inline on every id.
        return [("\x00" in text) or not text.isascii() for text in texts]

    parse = median_us(lambda: orjson.loads(raw), rounds, 200)
    return {
        "validate": median_us(validate, rounds, 200),
        "rule": median_us(text_rule, rounds, 200),
        "parse": parse,
    }


def entries(round_id: str, poison: bool) -> list[tuple[bytes, dict[bytes, bytes]]]:
    result = []
    received = str(int(NOW.timestamp() * 1_000_000)).encode()
    for entry in range(10):
        batch: list[Event] = []
        for i in range(100):
            event_id = f"{round_id}-{entry}-{i}"
            if i % 2:
                batch.append(ExposureEvent(event_id, f"u{i}", NOW, "checkout", "a"))
            else:
                batch.append(ConversionEvent(event_id, f"u{i}", NOW, "purchase", 649.0))
        if poison and entry == 5:
            batch[50] = ConversionEvent(f"{round_id}-poison", "nul\x00", NOW, "purchase")
        fields = {RECEIVED_FIELD: received, EVENTS_FIELD: encode_events(batch)}
        result.append((f"{entry}-0".encode(), fields))
    return result


def isolation_costs(postgres_url: str, redis_url: str, rounds: int) -> dict[str, float]:
    keys = StreamKeys(f"{{bench-hostile-{uuid.uuid4().hex[:8]}}}")
    client = redis.Redis.from_url(redis_url)
    timings: dict[str, list[float]] = {"clean": [], "poison": []}
    with fresh_postgres_schema(postgres_url) as url:
        upgrade(url)
        engine = make_engine(url)
        worker = StreamWorker(sync_redis(redis_url, 0.1), engine, keys, WorkerOptions())
        worker.ensure_group()
        try:
            for round_number in range(rounds):
                for kind in ("clean", "poison"):
                    batch = entries(f"{kind}{round_number}", kind == "poison")
                    started = time.perf_counter()
                    stored = worker.process(batch)
                    timings[kind].append((time.perf_counter() - started) * 1000)
                    assert stored == (1000 if kind == "clean" else 999)
        finally:
            engine.dispose()
            names = list(client.scan_iter(match=f"{keys.prefix}*"))
            if names:
                client.delete(*names)
            client.close()
    return {kind: statistics.median(values) for kind, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    machine = f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cpus"
    print(f"machine: {machine}")
    costs = validation_costs(args.rounds)
    print(
        f"validate 500 events: {costs['validate']:.0f} us, of which the text rule on the 1,000 "
        f"ids about {costs['rule']:.0f} us ({costs['rule'] / costs['validate']:.0%}); "
        f"orjson.loads of the body {costs['parse']:.0f} us"
    )
    if args.postgres_url and args.redis_url:
        stored = isolation_costs(args.postgres_url, args.redis_url, args.rounds)
        print(
            f"worker stores 10 entries x 100 events: {stored['clean']:.1f} ms clean, "
            f"{stored['poison']:.1f} ms with one poison event "
            f"({stored['poison'] / stored['clean']:.2f} x)"
        )


if __name__ == "__main__":
    main()
