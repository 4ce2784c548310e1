"""Soak: 10 minutes of mixed load on two `vekst serve` processes and one `vekst worker` sharing
PostgreSQL and Redis (append-only file on), recording throughput, p50/p99 per route and the
resident memory of each process over time.

Run: .venv/bin/python -m benchmarks.soak --postgres-url postgresql+psycopg://postgres@HOST/DB
     [--duration 600 --rate 150]   (needs `redis-server` on PATH; VEKST_BENCH_POSTGRES_URL works)

The load, spread over both servers: assign (half of them with `expose: true`), event batches
(10-40 events; about 10 % repeat ids already sent, about 5 % are invalid), the same through the
beacon, results pages and new looks (`POST .../snapshots`); the servers' schedulers also take a
look every minute (one server per interval, by its lease). At the end the load stops, the
stream drains, every process gets SIGTERM, and the script checks: no 5xx, every event the
servers accepted stored exactly once (by id), and memory after warm-up grown by less than 10 %.
It writes a JSON summary and an SVG plot (`--plot`, default docs/soak.svg).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from sqlalchemy import create_engine, func, select

from benchmarks.httpload import (
    MANY_VISITORS_ENV,
    checkout_experiment,
    machine,
    vekst_serve_process,
)
from benchmarks.redis_server import redis_server
from benchmarks.soak_plot import write_plot
from experiments.models.event import Conversion, Exposure
from experiments.models.snapshot import ResultSnapshot
from tests.services import fresh_postgres_schema

ADMIN_KEY = "soak-admin-key-0123456789"
SDK_KEY = "soak-sdk-key-0123456789"
WARM_UP_SECONDS = 120
SAMPLE_SECONDS = 10
EXPERIMENT = checkout_experiment("soak-checkout")


@dataclass
class Tally:
    """What the load saw: latencies per route, statuses, and the event ids accepted."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    sent_ids: set[str] = field(default_factory=set)  # valid events whose answer was 202
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    per_second: Counter[int] = field(default_factory=Counter)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _events(rng: random.Random, tally: Tally) -> tuple[list[dict[str, Any]], set[str]]:
    """A batch: mostly new events, some repeats of ids already accepted, some invalid ones."""
    batch: list[dict[str, Any]] = []
    fresh: set[str] = set()
    for _ in range(rng.randint(10, 40)):
        roll = rng.random()
        unit = f"visitor-{rng.randrange(200_000)}"
        if roll < 0.10 and tally.recent:
            # A repeat: the server must report it as a duplicate (or store it only once).
            batch.append(dict(rng.choice(tally.recent)))
            continue
        if roll < 0.15:
            batch.append({"type": "conversion", "unit_id": "", "name": "purchase"})  # invalid
            continue
        event_id = uuid.uuid4().hex
        fresh.add(event_id)
        if roll < 0.55:
            variant = rng.choice(("multi-step", "one-page"))
            batch.append({"type": "exposure", "unit_id": unit, "event_id": event_id,
                          "experiment": EXPERIMENT["key"], "variant": variant})  # fmt: skip
        else:
            name = rng.choice(("add_to_cart", "checkout_started", "purchase"))
            event: dict[str, Any] = {"type": "conversion", "unit_id": unit,
                                     "event_id": event_id, "name": name}  # fmt: skip
            if name == "purchase":
                event["value"] = round(rng.uniform(200, 1500), 2)
            batch.append(event)
    return batch, fresh


async def one_request(
    client: httpx.AsyncClient, base: str, rng: random.Random, tally: Tally
) -> None:
    roll = rng.random()
    sdk = {"Authorization": f"Bearer {SDK_KEY}"}
    fresh: set[str] = set()
    events: list[dict[str, Any]] = []
    if roll < 0.55:
        route = "POST /v1/assign"
        body = {"unit_id": f"visitor-{rng.randrange(200_000)}", "attributes": {"country": "NO"},
                "expose": rng.random() < 0.5}  # fmt: skip
        request = client.build_request("POST", f"{base}/v1/assign", json=body, headers=sdk)
    elif roll < 0.85:
        route = "POST /v1/events"
        events, fresh = _events(rng, tally)
        request = client.build_request(
            "POST", f"{base}/v1/events", json={"events": events}, headers=sdk
        )
    elif roll < 0.95:
        route = "POST /v1/events/beacon"
        events, fresh = _events(rng, tally)
        content = json.dumps({"sdk_key": SDK_KEY, "events": events})
        request = client.build_request(
            "POST", f"{base}/v1/events/beacon", content=content,
            headers={"Content-Type": "text/plain"},
        )  # fmt: skip
    else:
        # Results pages, and 2 in 5 of these a new look taken now.
        method, path = ("GET", "results") if roll < 0.98 else ("POST", "snapshots")
        route = f"{method} /v1/experiments/{{key}}/{path}"
        request = client.build_request(
            method, f"{base}/v1/experiments/{EXPERIMENT['key']}/{path}",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )  # fmt: skip
    started = time.perf_counter()
    try:
        response = await client.send(request)
    except httpx.TransportError:
        tally.statuses[(route, 0)] += 1
        return
    tally.latencies[route].append(time.perf_counter() - started)
    tally.statuses[(route, response.status_code)] += 1
    tally.per_second[int(time.monotonic())] += 1
    if response.status_code == 202:
        answer = response.json()
        tally.accepted += answer["accepted"]
        tally.duplicates += answer["duplicates"]
        tally.rejected += len(answer["rejected"])
        rejected_ids = {events[r["index"]].get("event_id") for r in answer["rejected"]}
        kept = fresh - rejected_ids
        tally.sent_ids |= kept
        tally.recent.extend(event for event in events if event.get("event_id") in kept)


async def drive(
    bases: list[str], stopped: set[str], duration: float, rate: float, tally: Tally, seed: int
) -> None:
    """Open-loop load: `rate` requests/s in total, alternating between the servers not in
    `stopped`, at most 64 in flight."""
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    gate = asyncio.Semaphore(64)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        tasks: set[asyncio.Task[None]] = set()
        start = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - start) < duration:
            due = int(elapsed * rate)
            while sent < due and time.monotonic() - start < duration:
                await gate.acquire()
                live = [base for base in bases if base not in stopped]
                base = live[sent % len(live)]
                task = asyncio.create_task(one_request(client, base, rng, tally))
                task.add_done_callback(lambda _t: gate.release())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)


async def sample_memory(
    processes: dict[str, subprocess.Popen[bytes]], duration: float, samples: list[dict[str, float]]
) -> None:
    start = time.monotonic()
    while (elapsed := time.monotonic() - start) < duration:
        sample = {"t": elapsed}
        for name, process in processes.items():
            if process.poll() is None:
                sample[name] = rss_mib(process.pid)
        samples.append(sample)
        await asyncio.sleep(SAMPLE_SECONDS)


def wait_for_drain(redis_url: str, prefix: str, timeout: float = 120) -> None:
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    try:
        while client.xlen(f"{prefix}:stream") > 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the stream did not drain")
            time.sleep(0.2)
    finally:
        client.close()


def stored(database_url: str) -> tuple[list[str], int]:
    """The ids of the events stored, and the number of looks stored."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            ids = list(connection.execute(select(Exposure.event_id)).scalars())  # type: ignore[call-overload]
            ids += list(connection.execute(select(Conversion.event_id)).scalars())  # type: ignore[call-overload]
            looks = connection.execute(select(func.count()).select_from(ResultSnapshot)).scalar()
    finally:
        engine.dispose()
    return ids, int(looks or 0)


async def stop_later(process: subprocess.Popen[bytes], base: str, after: float,
                     stopped: set[str], codes: dict[str, int]) -> None:  # fmt: skip
    """SIGTERM one server while the load runs: its requests in flight must still be answered."""
    await asyncio.sleep(after)
    stopped.add(base)
    await asyncio.sleep(0.2)  # let the requests already sent to it be in flight
    process.terminate()
    codes[base] = await asyncio.to_thread(process.wait, 60)


def growth(samples: list[dict[str, float]], name: str, until: float) -> float:
    """Memory growth after warm-up: the median of the last minute over that of the minute
    after warm-up (both before `until`)."""
    values = [(s["t"], s[name]) for s in samples if name in s and s["t"] <= until]
    early = [v for t, v in values if WARM_UP_SECONDS <= t < WARM_UP_SECONDS + 60]
    late = [v for t, v in values if t >= values[-1][0] - 60]
    if not early or not late:
        return float("nan")
    return statistics.median(late) / statistics.median(early) - 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres-url", default=os.environ.get("VEKST_BENCH_POSTGRES_URL"))
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--rate", type=float, default=150.0, help="requests/s over both servers")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--plot", type=Path, default=Path("docs/soak.svg"))
    parser.add_argument("--summary", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    if not args.postgres_url or not shutil.which("redis-server"):
        parser.error("needs --postgres-url (or VEKST_BENCH_POSTGRES_URL) and redis-server")
    prefix = "{vekst:soak}"
    tally = Tally()
    samples: list[dict[str, float]] = []
    codes: dict[str, int] = {}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database_url = stack.enter_context(fresh_postgres_schema(args.postgres_url))
        redis_url = stack.enter_context(
            redis_server(
                "--dir",
                str(folder),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            )
        )
        env = {
            "VEKST_DATABASE_URL": database_url, "VEKST_REDIS_URL": redis_url,
            "VEKST_ADMIN_KEY": ADMIN_KEY, "VEKST_SDK_KEY": SDK_KEY,
            "VEKST_START_WORKER": "false", "VEKST_EVENT_STREAM_PREFIX": prefix,
            "VEKST_SNAPSHOT_INTERVAL_MINUTES": "1", **MANY_VISITORS_ENV,
        }  # fmt: skip
        log = folder / "processes.log"
        (first, first_process) = stack.enter_context(vekst_serve_process(env, log))
        (second, second_process) = stack.enter_context(vekst_serve_process(env, log))
        with log.open("ab") as output:
            worker = subprocess.Popen(
                [str(Path(sys.executable).with_name("vekst")), "worker"],
                env={**os.environ, **env}, stdout=output, stderr=output,
            )  # fmt: skip
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        httpx.post(f"{first}/v1/experiments", json=EXPERIMENT, headers=admin).raise_for_status()
        httpx.post(
            f"{first}/v1/experiments/{EXPERIMENT['key']}/start", headers=admin
        ).raise_for_status()
        processes = {"server 1": first_process, "server 2": second_process, "worker": worker}
        stopped: set[str] = set()
        stop_at = args.duration - 10

        async def soak() -> None:
            await asyncio.gather(
                drive([first, second], stopped, args.duration, args.rate, tally, args.seed),
                sample_memory(processes, args.duration, samples),
                stop_later(second_process, second, stop_at, stopped, codes),
            )

        asyncio.run(soak())
        wait_for_drain(redis_url, prefix)
        scrape = httpx.get(f"{first}/metrics", headers=admin).text
        worker.terminate()
        codes["worker"] = worker.wait(60)
        first_process.terminate()
        codes[first] = first_process.wait(60)
        ids, looks = stored(database_url)
        server_log = log.read_text(errors="replace")
    report(args, tally, samples, codes, (ids, looks), scrape, server_log, stop_at)


def report(args: argparse.Namespace, tally: Tally, samples: list[dict[str, float]],
           codes: dict[str, int], found: tuple[list[str], int], scrape: str, server_log: str,
           stop_at: float) -> None:  # fmt: skip
    ids, looks = found
    errors = {key: n for key, n in tally.statuses.items() if key[1] >= 500}
    refused = {key: n for key, n in tally.statuses.items() if key[1] == 0}
    ids = [i for i in ids if not i.startswith("assign-")]  # assign's own exposures aside
    stored_once = len(ids) == len(set(ids))
    missing = tally.sent_ids - set(ids)
    routes = {
        route: {"requests": len(values), "p50_ms": round(percentile(values, 0.5) * 1000, 2),
                "p99_ms": round(percentile(values, 0.99) * 1000, 2)}
        for route, values in sorted(tally.latencies.items())
    }  # fmt: skip
    seconds = sorted(tally.per_second)
    throughput = [tally.per_second[s] for s in seconds[1:-1]]
    memory = {name: growth(samples, name, stop_at) for name in ("server 1", "server 2", "worker")}
    summary = {
        "machine": machine(),
        "duration_s": args.duration,
        "target_rate": args.rate,
        "throughput_median_rps": statistics.median(throughput) if throughput else 0,
        "routes": routes,
        "statuses": {f"{route} {code}": n for (route, code), n in sorted(tally.statuses.items())},
        "events": {
            "accepted": tally.accepted,
            "duplicates": tally.duplicates,
            "rejected": tally.rejected,
            "stored": len(ids),
        },  # fmt: skip
        "looks_stored": looks,
        "every_accepted_event_stored_once": stored_once
        and not missing
        and len(ids) == tally.accepted,
        "five_hundreds": sum(errors.values()),
        "refused_connections_after_sigterm": sum(refused.values()),
        "memory_growth_after_warm_up": {k: round(v, 4) for k, v in memory.items()},
        # uvicorn ends with the signal it was stopped by (-15) after its graceful shutdown.
        "exit_codes": list(codes.values()),
        "graceful_shutdowns_logged": server_log.count("Application shutdown complete"),
        "tracebacks_in_logs": server_log.count("Traceback"),
        "worker_lag_at_end": [ln for ln in scrape.splitlines() if ln.startswith("vekst_worker")],
    }
    print(json.dumps(summary, indent=2))
    if args.summary is not None:
        args.summary.write_text(json.dumps({**summary, "samples": samples}, indent=2))
    write_plot(args.plot, samples, tally.per_second)
    failures = []
    if errors:
        failures.append(f"5xx answers: {errors}")
    if not summary["every_accepted_event_stored_once"]:
        failures.append(f"stored {len(ids)} for {tally.accepted} accepted; missing {len(missing)}")
    if any(v >= 0.10 for v in memory.values()):
        failures.append(f"memory grew by 10 % or more: {memory}")
    if any(code not in (0, -15) for code in codes.values()) or (
        summary["graceful_shutdowns_logged"] != 2
    ):
        failures.append(f"a process did not stop cleanly on SIGTERM: {codes}")
    print("soak:", "; ".join(failures) if failures else "passed")


if __name__ == "__main__":
    main()
