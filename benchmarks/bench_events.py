"""Event ingestion throughput: POST /v1/events under wrk, beside a bare pydantic endpoint.

Run (needs `wrk` and `redis-server` on PATH and a PostgreSQL database):

    .venv/bin/python -m benchmarks.bench_events --postgres-url postgresql+psycopg://...

It starts one server at a time and loads it from wrk (a second process) with a 500-event body
(250 exposures, 250 conversions, new ids on every request), in rounds that alternate
  bare:     an async endpoint that parses the body with pydantic and drops it
            (`benchmarks.bare_app`);
  sqlite:   Vekst without Redis, each batch stored in SQLite inside the request;
  redis:    Vekst with Redis (worker off), each batch appended to the stream; then one worker
            drains the stream into PostgreSQL, timed;
  scaleout: `vekst serve` as shipped (request log on) with `VEKST_START_WORKER=false`, against
            Redis and PostgreSQL, while `vekst worker` runs in a process of its own; once the
            stream is drained, every accepted event must be stored exactly once.
`--before DIR` runs the sqlite and scaleout servers of an older tree (`git archive <commit> api
experiments sdk/python | tar -x -C DIR`) in the same rounds, labelled "(before)". It prints
medians of the rounds, the ratios to the bare endpoint measured in the same run, the machine with
its load average, and the CPU time the bare server and the scale-out processes spent per event
(which the load of other jobs on the machine changes far less than the rates).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import func, select

from benchmarks.httpload import (
    MANY_VISITORS_ENV,
    cpu_seconds,
    machine,
    uvicorn_server,
    uvicorn_server_process,
    vekst_serve_process,
)
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
# A capacity benchmark must not be capped by a rate limit: each client address (wrk is one)
# stands for many visitors (MANY_VISITORS_ENV), and the key's own limit (100,000 events/s by
# default) is off (a rate of 0), else a fast configuration measures the limit, not itself.
KEYS_ENV = {
    "VEKST_ADMIN_KEY": ADMIN_KEY,
    "VEKST_SDK_KEY": SDK_KEY,
    "VEKST_EVENTS_RATE_PER_SECOND": "0",
    **MANY_VISITORS_ENV,
}
LABELS = {
    "bare": "bare pydantic endpoint",
    "sqlite": "Vekst, SQLite, no Redis",
    "redis": "Vekst, Redis accepted",
    "scaleout": "serve + worker, Redis",
}


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


def wrk(base: str, body_file: str, seconds: int, connections: int) -> tuple[float, int]:
    """Events per second that got a 202, and the events wrk saw answered (wrk counts non-2xx
    separately; any is an error)."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(LUA)]
    command += [f"{base}/v1/events", "--", body_file, SDK_KEY]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    answered = re.search(r"(\d+) requests in", output)
    if rate is None or answered is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return float(rate.group(1)) * EVENTS_PER_BODY, int(answered.group(1)) * EVENTS_PER_BODY


def prepare_experiment(base: str) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    variants = [{"key": k, "name": k, "weight": 1} for k in ("multi-step", "one-page")]
    body: dict[str, Any] = {"key": "checkout-onepage", "name": "Checkout", "template": "checkout"}
    body["variants"] = variants
    httpx.post(f"{base}/v1/experiments", json=body, headers=headers).raise_for_status()
    httpx.post(f"{base}/v1/experiments/checkout-onepage/start", headers=headers).raise_for_status()


def stored(database_url: str) -> tuple[int, int]:
    """Rows stored in both tables, and distinct event ids among them."""
    engine = make_engine(database_url)
    rows = distinct = 0
    with engine.connect() as connection:
        for table in (Exposure, Conversion):
            rows += int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)
            ids = select(func.count(func.distinct(table.event_id)))
            distinct += int(connection.execute(ids).scalar() or 0)
    engine.dispose()
    return rows, distinct


def drain(redis_url: str, database_url: str) -> tuple[int, float]:
    """Store the whole backlog with one worker: (events stored, seconds)."""
    engine = make_engine(database_url)
    worker = StreamWorker(
        sync_redis(redis_url, 0.1), engine, StreamKeys(), WorkerOptions(block_seconds=0.1)
    )
    worker.ensure_group()
    started = time.perf_counter()
    total = 0
    while count := worker.read_once():
        total += count
    elapsed = time.perf_counter() - started
    engine.dispose()
    return total, elapsed


def wait_for_drain(redis_url: str, timeout: float = 300) -> None:
    """Until the separate worker has stored and deleted every entry of the stream."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    try:
        while client.xlen(StreamKeys().stream) > 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the stream did not drain")
            time.sleep(0.2)
    finally:
        client.close()


def redis_cpu_seconds(redis_url: str) -> float:
    """The CPU time the Redis server has used so far (its INFO), for the worker drain too."""
    client = redis.Redis.from_url(redis_url)
    try:
        info = client.info("cpu")
    finally:
        client.close()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def tree_env(tree: Path | None) -> dict[str, str]:
    """The environment that makes a `vekst` process import `tree` (None: this one)."""
    if tree is None:
        return {}
    return {"PYTHONPATH": f"{tree}{os.pathsep}{tree / 'sdk' / 'python'}"}


def migrate(env: dict[str, str]) -> None:
    """`vekst db upgrade` in the environment's tree: each tree's own schema (its indexes)."""
    command = [str(Path(sys.executable).with_name("vekst")), "db", "upgrade"]
    subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True)


@contextmanager
def vekst_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`vekst worker` in a process of its own, stopped (SIGTERM) at the end."""
    command = [str(Path(sys.executable).with_name("vekst")), "worker"]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=output, stderr=output)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=60)


class Rounds:
    """One run's servers and measurements (events per second by configuration)."""

    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.body_file = str(folder / "body.json")
        Path(self.body_file).write_bytes(body_template())
        self.rates: dict[str, list[float]] = {}
        self.drains: list[float] = []
        # Microseconds of CPU per accepted event, by process: what the load average cannot blur.
        self.cpu: dict[str, list[float]] = {}

    def load(self, base: str) -> tuple[float, int]:
        return wrk(base, self.body_file, self.args.seconds, self.args.connections)

    def record(self, name: str, rate: float) -> None:
        self.rates.setdefault(name, []).append(rate)

    def load_timed(
        self,
        base: str,
        label: str,
        processes: dict[str, subprocess.Popen[bytes]],
        redis_url: str | None = None,
    ) -> tuple[float, int]:
        """`load`, recording the CPU each process (and Redis, if given) spent per event
        answered."""
        clocks: dict[str, Callable[[], float]] = {
            name: partial(cpu_seconds, process.pid) for name, process in processes.items()
        }
        if redis_url is not None:
            clocks["redis-server"] = partial(redis_cpu_seconds, redis_url)
        before = {name: clock() for name, clock in clocks.items()}
        rate, answered = self.load(base)
        for name, clock in clocks.items():
            spent = clock() - before[name]
            self.cpu.setdefault(f"{label}: {name}", []).append(spent / answered * 1e6)
        return rate, answered

    def bare(self, _number: int, _tree: Path | None) -> float:
        factory = "benchmarks.bare_app:create_bare_events_app"
        with uvicorn_server_process(factory) as (base, process):
            return self.load_timed(base, "bare", {"server": process})[0]

    def sqlite(self, number: int, tree: Path | None) -> float:
        url = f"sqlite:///{self.folder}/round{number}-{tree is not None}.db"
        env = {**KEYS_ENV, **tree_env(tree), "VEKST_DATABASE_URL": url}
        migrate(env)
        app = "api.app:create_app_from_environment"
        log = self.folder / "sqlite.log"  # the request log, as in the scale-out rounds
        with uvicorn_server_process(app, env, log, app_dir=tree) as (base, server):
            prepare_experiment(base)
            label = "sqlite" + (" (before)" if tree else "")
            rate, answered = self.load_timed(base, label, {"server": server})
        if stored(url)[0] < answered:
            raise RuntimeError("SQLite stored fewer events than were accepted")
        return rate

    def redis(self, _number: int, _tree: Path | None) -> float:
        with (
            redis_server("--save", "", "--appendonly", "no") as redis_url,
            fresh_postgres_schema(self.args.postgres_url) as database_url,
        ):
            upgrade(database_url)
            env = {**KEYS_ENV, "VEKST_DATABASE_URL": database_url, "VEKST_REDIS_URL": redis_url}
            env["VEKST_START_WORKER"] = "false"
            with uvicorn_server("api.app:create_app_from_environment", env) as base:
                prepare_experiment(base)
                rate = self.load(base)[0]
            count, seconds = drain(redis_url, database_url)
            if stored(database_url)[0] != count:
                raise RuntimeError("the drain stored a different number of events")
            self.drains.append(count / seconds)
        return rate

    def scaleout(self, _number: int, tree: Path | None) -> float:
        with (
            redis_server("--save", "", "--appendonly", "no") as redis_url,
            fresh_postgres_schema(self.args.postgres_url) as database_url,
        ):
            env = {**KEYS_ENV, **tree_env(tree), "VEKST_DATABASE_URL": database_url}
            env |= {"VEKST_REDIS_URL": redis_url, "VEKST_START_WORKER": "false"}
            log = self.folder / "scaleout.log"
            with vekst_serve_process(env, log) as (base, serve), vekst_worker(env, log) as worker:
                prepare_experiment(base)
                label = "scaleout" + (" (before)" if tree else "")
                processes = {"vekst serve": serve, "vekst worker": worker}
                rate, answered = self.load_timed(base, label, processes, redis_url)
                wait_for_drain(redis_url)
            rows, distinct = stored(database_url)
            # wrk does not count the requests it cut off at the end; their events may be stored.
            cut_off = self.args.connections * EVENTS_PER_BODY
            if rows != distinct or not answered <= rows <= answered + cut_off:
                raise RuntimeError(f"{answered} events accepted, {rows} rows ({distinct} ids)")
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("VEKST_BENCH_POSTGRES_URL"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--only", default=",".join(LABELS), help=f"configurations to run, of {','.join(LABELS)}"
    )
    parser.add_argument("--before", type=Path, help="an older tree to measure in the same run")
    args = parser.parse_args()
    if not args.postgres_url or not shutil.which("wrk") or not shutil.which("redis-server"):
        parser.error("needs --postgres-url (or VEKST_BENCH_POSTGRES_URL), wrk and redis-server")
    chosen = [name for name in LABELS if name in args.only.split(",")]
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        rounds = Rounds(args, Path(folder))
        trees: list[tuple[str, Path | None]] = [("", None)]
        if args.before is not None:
            trees.append((" (before)", args.before.resolve()))
        for number in range(args.rounds):
            for name in chosen:
                measure: Callable[[int, Path | None], float] = getattr(rounds, name)
                for suffix, tree in trees if name in ("sqlite", "scaleout") else trees[:1]:
                    rounds.record(name + suffix, measure(number, tree))
            loads.append(os.getloadavg()[0])
            print(
                f"round {number + 1} (load {loads[-1]:.1f}): "
                + ", ".join(f"{name} {values[-1]:,.0f}/s" for name, values in rounds.rates.items())
            )
        report(args, rounds, loads)


def report(args: argparse.Namespace, rounds: Rounds, loads: list[float]) -> None:
    print(f"\nmachine: {machine()}, load average {min(loads):.1f}-{max(loads):.1f}")
    print(f"wrk -t1 -c{args.connections} -d{args.seconds}s, {EVENTS_PER_BODY} events per request")
    print(f"medians of {args.rounds} rounds (events per second):")
    bare = statistics.median(rounds.rates["bare"]) if "bare" in rounds.rates else None
    for name, values in rounds.rates.items():
        label = LABELS[name.split(" ")[0]] + name[len(name.split(" ")[0]) :]
        value = statistics.median(values)
        ratio = f"  ({value / bare:.2f} x bare)" if bare and name != "bare" else ""
        each = " / ".join(f"{v:,.0f}" for v in values)
        print(f"  {label:<34} {value:>10,.0f}{ratio}   rounds: {each}")
    if rounds.drains:
        print(f"  {'worker drain into PostgreSQL':<34} {statistics.median(rounds.drains):>10,.0f}")
    print("CPU per event accepted, microseconds (medians; load-independent, unlike the rates):")
    for name, values in rounds.cpu.items():
        print(f"  {name:<38} {statistics.median(values):>6.2f}")


if __name__ == "__main__":
    main()
