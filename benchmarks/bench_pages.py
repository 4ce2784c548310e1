"""The results web page at scale: server time of `GET /experiments/{key}` from the stored look.

Data as in `bench_results` / `bench_snapshots` (N exposed units, 3 N conversions, 30 days of
events, so the first look backfills 30 daily looks plus today's). The looks are taken once;
then, alternating in the same run, the detail page (HTML: verdict, tables, an SVG chart per
metric over the 31 looks) and the results API (`GET /v1/experiments/bench/results`, JSON of the
same look) are requested through the app (TestClient, logged in), medians of `--runs` each.

    .venv/bin/python -m benchmarks.bench_pages --units 1000000 --runs 20

Add `--postgres URL` to measure PostgreSQL instead of SQLite (the schema is dropped after).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from fastapi.testclient import TestClient

from api.app import create_app
from benchmarks.bench_results import create_experiment, generate, load
from benchmarks.bench_snapshots import ADMIN_KEY, END
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.results.snapshots import take_snapshot
from experiments.settings import load_settings
from tests.accounts import log_in
from tests.services import scratch_database


def timed_ms(client: TestClient, path: str, marker: str) -> float:
    began = time.perf_counter()
    response = client.get(path)
    elapsed = 1000 * (time.perf_counter() - began)
    if response.status_code != 200 or marker not in response.text:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return elapsed


def measure(url: str, units: int, runs: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    try:
        exposures, conversions = generate(units)
        load(engine, exposures, conversions)
        create_experiment(engine)
        with session_scope(engine) as session:
            take_snapshot(session, "bench", END, on_new_look=None)  # 30 backfilled looks
        with session_scope(engine) as session:
            take_snapshot(session, "bench", on_new_look=None)  # today's look, the one served
    finally:
        engine.dispose()
    # Looks younger than a year are served as they are: the page is timed, not a new look.
    settings = load_settings(
        database_url=url,
        admin_key=ADMIN_KEY,
        start_scheduler=False,
        snapshot_interval_minutes=525_600,
    )
    with TestClient(create_app(settings)) as client:
        log_in(client)  # an admin account, made in the benchmark's database
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        api = TestClient(client.app, headers=headers)
        timed_ms(client, "/experiments/bench", "<svg")  # warm up once, as a server would be
        pages, answers = [], []
        for _ in range(runs):
            pages.append(timed_ms(client, "/experiments/bench", "<svg"))
            answers.append(timed_ms(api, "/v1/experiments/bench/results", '"summary"'))
    return {"page": statistics.median(pages), "api": statistics.median(answers)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    options = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {platform.python_version()}")
    with scratch_database(options.postgres) as url:
        figures = measure(url, options.units, options.runs)
    engine = "postgresql" if options.postgres else "sqlite"
    print("database     units  detail page ms  results API ms  ratio")
    print(
        f"{engine:<10} {options.units:>9,} {figures['page']:>15.1f} {figures['api']:>15.1f} "
        f"{figures['page'] / figures['api']:>6.2f}"
    )


if __name__ == "__main__":
    main()
