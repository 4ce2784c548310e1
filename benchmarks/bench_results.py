"""Full results of a checkout experiment from 10,000 to 1,000,000 exposed units.

For each size the script bulk-loads N exposed units and 3 N conversion events (generated with
numpy, not through the API) into a fresh SQLite file and a throwaway PostgreSQL schema, then
VACUUM ANALYZEs (PostgreSQL) or ANALYZEs (SQLite) them, as autovacuum or an operator would, then
times `compute_results` (SQL aggregation of every checkout metric + stats + decision). The
comparison, measured in the same run, is pandas computing the purchase-conversion sums from the
same rows already in memory.

    .venv/bin/python -m benchmarks.bench_results --sizes 10000 100000 1000000 --repeats 5 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Without --postgres only SQLite is measured. The PostgreSQL schema is dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Engine

from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.results.pipeline import compute_results
from tests.experiments.results.helpers import start_experiment
from tests.services import fresh_postgres_schema

START = datetime(2026, 1, 5, tzinfo=UTC)
NAMES = np.array(["add_to_cart", "checkout_started", "purchase", "refund", "page_view"])
NAME_SHARES = [0.30, 0.25, 0.15, 0.02, 0.28]


def generate(units: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """N exposures (1 % of units also in the other variant) and 3 N conversions."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, 14 * 86_400_000, units)
    variants = np.where(rng.random(units) < 0.5, "control", "treatment")
    exposures = pd.DataFrame(
        {
            "unit_id": np.char.add("u", np.arange(units).astype(str)),
            "variant": variants,
            "timestamp": START + pd.to_timedelta(offsets, unit="ms"),
        }
    )
    doubled = exposures.sample(frac=0.01, random_state=seed).copy()
    doubled["variant"] = np.where(doubled["variant"] == "control", "treatment", "control")
    doubled["timestamp"] += pd.Timedelta(minutes=5)
    exposures = pd.concat([exposures, doubled], ignore_index=True)

    count = 3 * units
    owners = rng.integers(0, int(units * 1.05), count)  # 5 % of events from unexposed units
    names = rng.choice(NAMES, count, p=NAME_SHARES)
    around = offsets[np.minimum(owners, units - 1)] + rng.integers(-5, 10, count) * 86_400_000
    values = np.where(names == "purchase", np.round(rng.lognormal(6.2, 0.8, count), 2), np.nan)
    conversions = pd.DataFrame(
        {
            "unit_id": np.char.add("u", owners.astype(str)),
            "name": names,
            "value": values,
            "timestamp": START + pd.to_timedelta(around, unit="ms"),
        }
    )
    return exposures, conversions


def conversion_records(
    conversions: pd.DataFrame,
) -> Iterator[tuple[str, str, float | None, datetime]]:
    """Each generated conversion as (name, unit id, value or None, aware timestamp)."""
    for name, unit, value, moment in zip(
        conversions.name, conversions.unit_id, conversions.value, conversions.timestamp, strict=True
    ):
        yield name, unit, None if np.isnan(value) else float(value), moment.to_pydatetime()


def load(engine: Engine, exposures: pd.DataFrame, conversions: pd.DataFrame) -> None:
    """Bulk-load with COPY on PostgreSQL and executemany on SQLite (exposures with an
    `attributes` column of JSON texts keep them)."""
    received = START + timedelta(days=30)
    given = exposures["attributes"] if "attributes" in exposures else [None] * len(exposures)
    attributes = [text if isinstance(text, str) else None for text in given]
    exposure_rows = [
        (f"x{i}", "bench", v, u, t.to_pydatetime().replace(tzinfo=None), a)
        for i, (u, v, t, a) in enumerate(
            zip(exposures.unit_id, exposures.variant, exposures.timestamp, attributes, strict=True)
        )
    ]
    conversion_rows = [
        (f"c{i}", name, unit, value, moment.replace(tzinfo=None))
        for i, (name, unit, value, moment) in enumerate(conversion_records(conversions))
    ]
    received_naive = received.replace(tzinfo=None)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            columns = "(event_id, experiment, variant, unit_id, timestamp, attributes, received_at)"
            with cursor.copy(f"COPY exposures {columns} FROM STDIN") as copy:
                for row in exposure_rows:
                    copy.write_row((*row, received_naive))
            columns = "(event_id, name, unit_id, value, timestamp, received_at)"
            with cursor.copy(f"COPY conversions {columns} FROM STDIN") as copy:
                for conversion in conversion_rows:
                    copy.write_row((*conversion, received_naive))
        else:
            fmt = "%Y-%m-%d %H:%M:%S.%f"
            cursor.executemany(
                "INSERT INTO exposures (event_id, experiment, variant, unit_id, timestamp, "
                "attributes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (*row[:4], row[4].strftime(fmt), row[5], received_naive.strftime(fmt))
                    for row in exposure_rows
                ],
            )
            cursor.executemany(
                "INSERT INTO conversions (event_id, name, unit_id, value, timestamp, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (*row[:4], row[4].strftime(fmt), received_naive.strftime(fmt))
                    for row in conversion_rows
                ],
            )
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load in production: statistics for the planner
        # and the visibility map that lets the results query use index-only scans.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE exposures"))
            connection.execute(text("VACUUM ANALYZE conversions"))


def create_experiment(engine: Engine) -> None:
    """The benchmark's running experiment, "bench", started at START."""
    start_experiment(engine, "bench", START, name="Benchmark checkout")


def pandas_conversion(exposures: pd.DataFrame, conversions: pd.DataFrame) -> pd.Series:
    """The purchase-conversion sums per variant in memory: the same attribution, no database."""
    first = exposures.groupby("unit_id").agg(
        first_at=("timestamp", "min"), variant=("variant", "min"), kinds=("variant", "nunique")
    )
    first = first[first.kinds == 1]
    purchases = conversions[conversions.name == "purchase"].join(first, on="unit_id", how="inner")
    bought = purchases[purchases.timestamp >= purchases.first_at].unit_id.unique()
    first["bought"] = first.index.isin(bought)
    return first.groupby("variant").bought.sum()


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure(url: str, exposures: pd.DataFrame, conversions: pd.DataFrame, repeats: int) -> float:
    upgrade(url)
    engine = make_engine(url)
    try:
        load(engine, exposures, conversions)
        create_experiment(engine)
        now = START + timedelta(days=30)

        def full_results() -> object:
            with session_scope(engine) as session:
                return compute_results(session, "bench", now=now)

        full_results()  # warm caches once, as a server would be
        return median_seconds(full_results, repeats)
    finally:
        engine.dispose()


def size_options(description: str) -> argparse.Namespace:
    """The command line of the benchmarks that load N exposed units into each database."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    return parser.parse_args()


def databases(options: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """(name, URL) of each database to measure: a fresh SQLite file unless --skip-sqlite, and a
    throwaway PostgreSQL schema with --postgres; each is removed once the next is asked for."""
    if not options.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            yield "sqlite", f"sqlite:///{Path(folder) / 'bench.db'}"
    if options.postgres:
        with fresh_postgres_schema(options.postgres) as url:
            yield "postgresql", url


def main() -> None:
    options = size_options(__doc__.splitlines()[0])
    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(f"{'units':>10} {'events':>10} {'sqlite s':>9} {'postgres s':>11} {'pandas s':>9}")
    for units in options.sizes:
        exposures, conversions = generate(units)
        pandas_time = median_seconds(
            partial(pandas_conversion, exposures, conversions), options.repeats
        )
        seconds = {
            database: measure(url, exposures, conversions, options.repeats)
            for database, url in databases(options)
        }
        events = len(exposures) + len(conversions)
        nan = float("nan")
        times = (
            f"{seconds.get('sqlite', nan):>9.2f} {seconds.get('postgresql', nan):>11.2f} "
            f"{pandas_time:>9.2f}"
        )
        print(f"{units:>10,} {events:>10,} {times}")


if __name__ == "__main__":
    main()
