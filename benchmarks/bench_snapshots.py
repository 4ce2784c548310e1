"""Looks at scale: serving a stored look, the timeseries over 30 looks, the backfill of 30
daily looks and one new look, each beside one full computation measured in the same run.

Data as in `bench_results` (N exposed units, +1 % in both variants, 3 N conversions), with the
analysis ending 30 days after the first exposure, so the first look backfills 30 daily looks.
Per database and size, medians of `--repeats` runs (serving and the timeseries: of 20); the
full computations alternate with the new looks, so both see the same load:

- full: `compute_results` (one SQL aggregation, stats, decision), today's page without looks;
- backfill: the first `take_snapshot` (30 looks from one pass: `daily_aggregates`, then the
  stats and running readings of each look, stored), its stored looks deleted before each run;
- new look: `take_snapshot` once looks exist (one aggregation, running readings, stored);
- served, timeseries: `GET /v1/experiments/bench/results` and `.../results/timeseries` through
  the app (TestClient, admin key) from the stored looks.

    .venv/bin/python -m benchmarks.bench_snapshots --sizes 10000 100000 1000000 --repeats 3 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Without --postgres only SQLite is measured. The PostgreSQL schema is dropped afterwards.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import delete

from api.app import create_app
from benchmarks.bench_results import (
    START,
    create_experiment,
    databases,
    generate,
    load,
    median_seconds,
    size_options,
)
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models.snapshot import ResultSnapshot
from experiments.results.pipeline import compute_results
from experiments.results.snapshots import take_snapshot
from experiments.settings import load_settings

ADMIN_KEY = "bench-admin-key-0123456789"
END = START + timedelta(days=30)
SERVED_RUNS = 20


def median_ms(run: Callable[[], object], repeats: int) -> float:
    return 1000 * median_seconds(run, repeats)


def timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def measure(
    url: str, exposures: pd.DataFrame, conversions: pd.DataFrame, repeats: int
) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    try:
        load(engine, exposures, conversions)
        create_experiment(engine)

        def full() -> object:
            with session_scope(engine) as session:
                return compute_results(session, "bench", now=END)

        def backfill() -> float:
            with session_scope(engine) as session:
                session.execute(delete(ResultSnapshot))
            began = time.perf_counter()
            with session_scope(engine) as session:
                look = take_snapshot(session, "bench", END, on_new_look=None).look
            elapsed = time.perf_counter() - began
            if look != 30:
                raise RuntimeError(f"expected 30 backfilled looks, got {look}")
            return elapsed

        def new_look() -> object:
            with session_scope(engine) as session:
                # now: ends after every event
                return take_snapshot(session, "bench", on_new_look=None)

        full()  # warm caches once, as a server would be
        backfills = [backfill() for _ in range(repeats)]
        # Full computations and new looks alternate, so both see the same load and caches.
        fulls, new_looks = [], []
        for _ in range(repeats):
            fulls.append(timed(full))
            new_looks.append(timed(new_look))
        figures = {
            "full": statistics.median(fulls),
            "backfill": statistics.median(backfills),
            "new look": statistics.median(new_looks),
        }
        settings = load_settings(database_url=url, admin_key=ADMIN_KEY, start_scheduler=False)
        with TestClient(create_app(settings)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"

            def served() -> object:
                response = client.get("/v1/experiments/bench/results")
                if response.status_code != 200:
                    raise RuntimeError(response.text)
                return response

            def timeseries() -> object:
                response = client.get(
                    "/v1/experiments/bench/results/timeseries",
                    params={"metric": "conversion_rate"},
                )
                if len(response.json()["points"]) != 31:  # 30 days, and today's look
                    raise RuntimeError(response.text[:300])
                return response

            served()
            figures["served ms"] = median_ms(served, SERVED_RUNS)
            figures["timeseries ms"] = median_ms(timeseries, SERVED_RUNS)
        return figures
    finally:
        engine.dispose()


def main() -> None:
    options = size_options(__doc__.splitlines()[0])
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {platform.python_version()}")
    header = "database     units     events  full s  backfill s  ratio  new look s  served ms"
    print(f"{header}  timeseries ms")
    for units in options.sizes:
        exposures, conversions = generate(units)
        events = len(exposures) + len(conversions)
        runs = [
            (database, measure(url, exposures, conversions, options.repeats))
            for database, url in databases(options)
        ]
        for database, f in runs:
            ratio = f["backfill"] / f["full"]
            print(
                f"{database:<10} {units:>7,} {events:>10,} {f['full']:>7.2f} "
                f"{f['backfill']:>11.2f} {ratio:>6.2f} {f['new look']:>11.2f} "
                f"{f['served ms']:>10.1f} {f['timeseries ms']:>14.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
