"""What segments cost: a new look with 4 dimensions against one without, and a breakdown served.

For each size the script bulk-loads the data of `bench_results` (N exposed units, 3 N
conversions over 30 days) whose exposures carry 4 attributes (device: 3 levels, source: 6,
visitor_type: 2, market: 5; 5 % of exposures carry none), into a fresh SQLite file and a
throwaway PostgreSQL schema, takes a first look early on the first day (so no backfill), then
alternates new looks (`take_snapshot`) of the experiment without dimensions and with the 4, in
the same run, and serves the breakdown `GET .../results?dimension=market` from the stored look
through the app (median of 20 requests).

    .venv/bin/python -m benchmarks.bench_segments --sizes 100000 --repeats 3 \\
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Targets (issue #23, at 1,000,000 units): a new look with 4 dimensions takes at most 1.5x one
without; a breakdown is served in at most 50 ms.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import orjson
import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine

from api.app import create_app
from benchmarks.bench_results import (
    START,
    create_experiment,
    databases,
    generate,
    load,
    size_options,
)
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models.experiment import Experiment
from experiments.results.snapshots import take_snapshot
from experiments.settings import load_settings

ADMIN_KEY = "bench-admin-key-0123456789"
SERVED_RUNS = 20
DIMENSIONS = ["device", "source", "visitor_type", "market"]
LEVELS = {
    "device": ["mobile", "desktop", "tablet"],
    "source": ["search", "social", "email", "paid", "direct", "referral"],
    "visitor_type": ["new", "returning"],
    "market": ["NO", "SE", "DK", "FI", "IS"],
}


def with_attributes(exposures: pd.DataFrame, seed: int = 2) -> pd.DataFrame:
    """The exposures with an `attributes` JSON text each (5 % without any)."""
    rng = np.random.default_rng(seed)
    count = len(exposures)
    drawn = {name: rng.integers(0, len(levels), count) for name, levels in LEVELS.items()}
    bare = rng.random(count) < 0.05
    texts = [
        None
        if bare[index]
        else orjson.dumps(
            {name: LEVELS[name][int(drawn[name][index])] for name in DIMENSIONS}
        ).decode()
        for index in range(count)
    ]
    return exposures.assign(attributes=texts)


def set_dimensions(engine: Engine, dimensions: list[str]) -> None:
    with session_scope(engine) as session:
        table = Experiment.__table__  # type: ignore[attr-defined]
        session.execute(update(table).where(table.c.key == "bench").values(dimensions=dimensions))


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

        def new_look() -> object:
            with session_scope(engine) as session:
                return take_snapshot(session, "bench", on_new_look=None)

        with session_scope(engine) as session:  # a first look, half a day in: no backfill
            take_snapshot(session, "bench", START + timedelta(hours=12), on_new_look=None)
        figures: dict[str, float] = {}
        plain, segmented = [], []
        for _ in range(repeats):  # alternating, so both see the same load and caches
            set_dimensions(engine, [])
            plain.append(timed(new_look))
            set_dimensions(engine, DIMENSIONS)
            segmented.append(timed(new_look))
        figures["new look"] = statistics.median(plain)
        figures["with dimensions"] = statistics.median(segmented)
        figures["ratio"] = figures["with dimensions"] / figures["new look"]
        settings = load_settings(database_url=url, admin_key=ADMIN_KEY, start_scheduler=False)
        with TestClient(create_app(settings)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"

            def served() -> object:
                response = client.get(
                    "/v1/experiments/bench/results", params={"dimension": "market"}
                )
                if response.status_code != 200 or not response.json()["segments"]["levels"]:
                    raise RuntimeError(response.text[:300])
                return response

            served()
            figures["served ms"] = 1000 * statistics.median(
                timed(served) for _ in range(SERVED_RUNS)
            )
        return figures
    finally:
        engine.dispose()


def main() -> None:
    options = size_options(__doc__.splitlines()[0])
    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}, load {os.getloadavg()}")
    print(
        f"{'database':<11} {'units':>10} {'new look s':>11} "
        f"{'4 dims s':>9} {'ratio':>6} {'served ms':>10}"
    )
    for units in options.sizes:
        exposures, conversions = generate(units)
        exposures = with_attributes(exposures)
        for database, url in databases(options):
            got = measure(url, exposures, conversions, options.repeats)
            print(
                f"{database:<11} {units:>10,} {got['new look']:>11.2f} "
                f"{got['with dimensions']:>9.2f} {got['ratio']:>6.2f} {got['served ms']:>10.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
