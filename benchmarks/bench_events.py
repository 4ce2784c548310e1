"""Event ingestion throughput: POST /v1/events under wrk, beside a bare pydantic endpoint.

Run (needs `wrk` and `redis-server` on PATH and a PostgreSQL database):

    .venv/bin/python -m benchmarks.bench_events --postgres-url postgresql+psycopg://...

It starts one uvicorn worker at a time and loads it from wrk (a second process) with a 500-event
body (250 exposures, 250 conversions, new ids on every request), in rounds that alternate
  bare:   an async endpoint that parses the body with pydantic and drops it;
  sqlite: Vekst without Redis, each batch stored in SQLite inside the request;
  redis:  Vekst with Redis (worker off), each batch appended to the stream;
then drains the stream the redis rounds filled into PostgreSQL with one worker and times it.
It prints medians of the rounds, the ratios to the bare endpoint, and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import func, select

from benchmarks.httpload import MANY_VISITORS_ENV, uvicorn_server
from benchmarks.redis_server import redis_server
from experiments.db import make_engine
from experiments.events import StreamKeys, StreamWorker, WorkerOptions
from experiments.events.streams import sync_redis
from experiments.migrate import upgrade
from experiments.models.event import Conversion, Exposure
from tests.services import fresh_postgres_schema

EVENTS_PER_BODY = 500
ADMIN_KEY = "bench-admin-key-0123456789"
SDK_KEY = "bench-sdk-key-0123456789"
LUA = Path(__file__).with_name("events.lua")


class WireEvent(BaseModel):
    event_id: str | None = None
    type: str
    unit_id: str
    timestamp: int | str | None = None
    experiment: str | None = None
    variant: str | None = None
    name: str | None = None
    value: float | None = None
    properties: dict[str, Any] | None = None


class Batch(BaseModel):
    events: list[WireEvent]


def create_bare_app() -> FastAPI:
    """The comparison: what any FastAPI service pays to parse the body before doing any work."""
    app = FastAPI()

    @app.post("/v1/events", status_code=202)
    async def drop(batch: Batch) -> dict[str, int]:
        return {"accepted": len(batch.events)}

    return app


def body_template() -> bytes:
    now_ms = int(time.time() * 1000)
    events: list[dict[str, Any]] = []
    for i in range(EVENTS_PER_BODY):
        event: dict[str, Any] = {"event_id": f"@@-{i}", "unit_id": f"visitor-{i}"}
        event["timestamp"] = now_ms
        if i % 2:
            event.update(type="exposure", experiment="checkout-onepage", variant="one-page")
        else:
            event.update(type="conversion", name="purchase", value=649.0)
            event["properties"] = {"payment": "vipps"}
        events.append(event)
    return json.dumps({"events": events}).encode()


def wrk(base: str, body_file: str, seconds: int, connections: int) -> float:
    """Events per second that got a 202 (wrk counts non-2xx separately; any is an error)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(LUA)]
    command += [f"{base}/v1/events", "--", body_file, SDK_KEY]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(match.group(1)) * EVENTS_PER_BODY


def prepare_experiment(base: str) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    variants = [{"key": k, "name": k, "weight": 1} for k in ("multi-step", "one-page")]
    body: dict[str, Any] = {"key": "checkout-onepage", "name": "Checkout", "template": "checkout"}
    body["variants"] = variants
    httpx.post(f"{base}/v1/experiments", json=body, headers=headers).raise_for_status()
    httpx.post(f"{base}/v1/experiments/checkout-onepage/start", headers=headers).raise_for_status()


def stored(database_url: str) -> int:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        total = sum(
            int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)
            for table in (Exposure, Conversion)
        )
    engine.dispose()
    return total


def drain(redis_url: str, database_url: str) -> tuple[int, float]:
    """Store the whole backlog with one worker: (events stored, seconds)."""
    engine = make_engine(database_url)
    keys = StreamKeys()
    worker = StreamWorker(
        sync_redis(redis_url, 0.1), engine, keys, WorkerOptions(block_seconds=0.1)
    )
    worker.ensure_group()
    started = time.perf_counter()
    total = 0
    while count := worker.read_once():
        total += count
    elapsed = time.perf_counter() - started
    engine.dispose()
    return total, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("VEKST_BENCH_POSTGRES_URL"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--skip-redis", action="store_true", help="only the bare and SQLite rounds (no drain)"
    )
    args = parser.parse_args()
    if not args.postgres_url or not shutil.which("wrk") or not shutil.which("redis-server"):
        parser.error("needs --postgres-url (or VEKST_BENCH_POSTGRES_URL), wrk and redis-server")
    rates: dict[str, list[float]] = {"bare": [], "sqlite": [], "redis": []}
    drains: list[float] = []
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_postgres_schema(args.postgres_url) as pg_url,
    ):
        body_file = str(Path(folder) / "body.json")
        Path(body_file).write_bytes(body_template())
        upgrade(pg_url)
        keys_env = {"VEKST_ADMIN_KEY": ADMIN_KEY, "VEKST_SDK_KEY": SDK_KEY, **MANY_VISITORS_ENV}
        for round_number in range(args.rounds):
            with uvicorn_server("benchmarks.bench_events:create_bare_app", {}) as base:
                rates["bare"].append(wrk(base, body_file, args.seconds, args.connections))
            sqlite_url = f"sqlite:///{folder}/round{round_number}.db"
            upgrade(sqlite_url)
            env = {**keys_env, "VEKST_DATABASE_URL": sqlite_url}
            with uvicorn_server("api.app:create_app_from_environment", env) as base:
                prepare_experiment(base)
                rate = wrk(base, body_file, args.seconds, args.connections)
            rates["sqlite"].append(rate)
            if stored(sqlite_url) == 0:
                raise RuntimeError("nothing was stored in SQLite")
            if args.skip_redis:
                print(
                    f"round {round_number + 1}: "
                    f"bare {rates['bare'][-1]:,.0f}/s, sqlite {rate:,.0f}/s"
                )
                continue
            without_persistence = redis_server("--save", "", "--appendonly", "no")
            with (
                without_persistence as redis_url,
                fresh_postgres_schema(args.postgres_url) as round_pg,
            ):
                upgrade(round_pg)
                env = {**keys_env, "VEKST_DATABASE_URL": round_pg, "VEKST_REDIS_URL": redis_url}
                env["VEKST_START_WORKER"] = "false"
                with uvicorn_server("api.app:create_app_from_environment", env) as base:
                    prepare_experiment(base)
                    rates["redis"].append(wrk(base, body_file, args.seconds, args.connections))
                count, seconds = drain(redis_url, round_pg)
                if stored(round_pg) != count:
                    raise RuntimeError("the drain stored a different number of events")
                drains.append(count / seconds)
            print(
                f"round {round_number + 1}: "
                + ", ".join(f"{name} {values[-1]:,.0f}/s" for name, values in rates.items())
                + f", drain {drains[-1]:,.0f}/s"
            )
    bare = statistics.median(rates["bare"])
    print(
        f"\nmachine: {platform.platform()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    print(f"wrk -t1 -c{args.connections} -d{args.seconds}s, {EVENTS_PER_BODY} events per request")
    print(f"medians of {args.rounds} rounds (events per second):")
    print(f"  bare pydantic endpoint       {bare:>10,.0f}")
    for name, label in (("sqlite", "Vekst, SQLite, no Redis"), ("redis", "Vekst, Redis accepted")):
        if rates[name]:
            value = statistics.median(rates[name])
            print(f"  {label:<28} {value:>10,.0f}  ({value / bare:.2f} x bare)")
    if drains:
        print(f"  worker drain into PostgreSQL {statistics.median(drains):>10,.0f}")


if __name__ == "__main__":
    main()
