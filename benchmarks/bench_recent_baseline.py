"""The cost of measuring the recent baseline and CUPED reduction for the plan at creation.

Stores `--units` units exposed over the last 14 days, a third of them with purchases in each
week (values kept), then times `recent_baseline` for the conversion rate and revenue per
visitor, `--runs` rounds, and prints the median milliseconds of each: what the first new
experiment page after a start (or every 15 minutes) waits for per primary metric.

    .venv/bin/python -m benchmarks.bench_recent_baseline --units 100000 --runs 5

Add `--postgres URL` to measure PostgreSQL instead of SQLite (the schema is dropped after).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert

from experiments.db import make_engine, session_scope
from experiments.metrics import builtin_metrics
from experiments.migrate import upgrade
from experiments.models.event import Conversion, Exposure
from experiments.recent_baseline import recent_baseline
from tests.services import scratch_database


def fill(url: str, units: int, now: datetime) -> None:
    rng = np.random.default_rng(1)
    exposures, conversions = [], []
    for unit in range(units):
        seen = now - timedelta(days=float(rng.uniform(0, 14)))
        exposures.append(
            {
                "event_id": f"x{unit}",
                "experiment": "cta",
                "variant": "a",
                "unit_id": f"u{unit}",
                "timestamp": seen,
                "received_at": seen,
            }
        )
        for week in (0, 1):
            if rng.random() < 1 / 3:
                at = now - timedelta(days=float(rng.uniform(7 * week, 7 * week + 7)))
                conversions.append(
                    {
                        "event_id": f"c{unit}-{week}",
                        "name": "purchase",
                        "unit_id": f"u{unit}",
                        "value": float(rng.lognormal(3, 0.5)),
                        "timestamp": at,
                        "received_at": at,
                    }
                )
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.execute(insert(Exposure), exposures)
        session.execute(insert(Conversion), conversions)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    options = parser.parse_args()
    now = datetime.now(UTC)
    metrics = builtin_metrics()
    with scratch_database(options.postgres) as url:
        upgrade(url)
        fill(url, options.units, now)
        engine = make_engine(url)
        for key in ("conversion_rate", "revenue_per_visitor"):
            times = []
            for _ in range(options.runs):
                with session_scope(engine) as session:
                    started = time.perf_counter()
                    measured = recent_baseline(session, metrics[key], now)
                    times.append((time.perf_counter() - started) * 1000)
            print(f"{key}: median {statistics.median(times):.0f} ms {sorted(times)} {measured}")
        engine.dispose()


if __name__ == "__main__":
    main()
