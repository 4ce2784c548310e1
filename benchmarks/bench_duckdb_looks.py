"""A full look's aggregation in an embedded DuckDB, beside SQLite (and PostgreSQL), same data,
same run: is an optional columnar engine for looks worth its weight?

Data as in `bench_results` (N exposed units, 3 N conversions). The query is the one a full look
runs (`sums_query.sums_query`: the checkout metrics without percentile caps, CUPED, one
group per variant), compiled for PostgreSQL with its values inlined; DuckDB reads that SQL
with two changes (its `make_interval` takes no named argument: the moved timestamps are written
as `+ to_microseconds(...)`; its FLOAT has 4 bytes: DOUBLE). DuckDB's tables are loaded from
the same pandas frames, in memory; SQLite and PostgreSQL as `bench_results` loads them.
Medians of `--repeats` runs after one warm-up; the engines' units and revenue are checked to
agree.

    .venv/bin/pip install duckdb   # the `bench` extra
    .venv/bin/python -m benchmarks.bench_duckdb_looks --sizes 1000000 --repeats 3 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import duckdb
import pandas as pd
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from benchmarks.bench_results import START, databases, generate, load, size_options
from experiments.db import make_engine
from experiments.metrics import builtin_metrics
from experiments.migrate import upgrade
from experiments.models.metric import MetricDefinition
from experiments.results.sums.aggregation import Aggregates, aggregate
from experiments.results.sums.per_unit_values import first_exposures
from experiments.results.sums.sums_query import sums_query

END = START + timedelta(days=30)
KEYS = (
    "conversion_rate",
    "aov",
    "revenue_per_visitor",
    "checkout_start_rate",
    "cart_abandonment",
    "refund_rate",
)


def duckdb_sql() -> str:
    metrics = [builtin_metrics()[key] for key in KEYS]
    exposed = first_exposures("bench", metrics, END, cuped=True)
    query, _ = sums_query(metrics, END, True, "postgresql", (), exposed=exposed)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    moved = re.compile(r"make_interval\(secs => ([^)]+)\)")
    sql = moved.sub(r"to_microseconds(CAST((\1) * 1000000 AS BIGINT))", sql)
    return sql.replace("AS FLOAT)", "AS DOUBLE)")  # FLOAT is 4 bytes in DuckDB, 8 in PostgreSQL


def duckdb_tables(exposures: pd.DataFrame, conversions: pd.DataFrame) -> Any:
    connection = duckdb.connect()
    frames = {
        "exposures": exposures.assign(
            experiment="bench", timestamp=exposures.timestamp.dt.tz_localize(None)
        ),
        "conversions": conversions.assign(
            source="sdk", timestamp=conversions.timestamp.dt.tz_localize(None)
        ),
    }
    for name, frame in frames.items():
        connection.register(f"{name}_frame", frame)
        connection.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_frame")
    return connection


def median_time(run: Any, repeats: int) -> tuple[float, Any]:
    result = run()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def _run_duckdb(connection: Any, sql: str) -> pd.DataFrame:
    return connection.execute(sql).df()


def _full(engine: Engine, metrics: Sequence[MetricDefinition]) -> Aggregates:
    with engine.connect() as connection:
        return aggregate(connection, "bench", ["control", "treatment"], metrics, END)


def main() -> None:
    options = size_options(__doc__.splitlines()[0])
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, DuckDB {duckdb.__version__}")
    print(f"load average at the start: {os.getloadavg()}")
    metrics = [builtin_metrics()[key] for key in KEYS]
    for units in options.sizes:
        exposures, conversions = generate(units)
        ducks = duckdb_tables(exposures, conversions)
        seconds, frame = median_time(partial(_run_duckdb, ducks, duckdb_sql()), options.repeats)
        duck_units = {
            row.variant: int(row.units) for row in frame.itertuples() if row.variant != "*several*"
        }
        duck_sums = dict(zip(frame.variant, frame.m1_numerator_sum, strict=True))
        print(f"{units:>10,} duckdb     {seconds:8.3f} s  units {duck_units}", flush=True)
        for database, url in databases(options):
            upgrade(url)
            engine = make_engine(url)
            try:
                load(engine, exposures, conversions)
                seconds, found = median_time(partial(_full, engine, metrics), options.repeats)
            finally:
                engine.dispose()
            # The same units and the same revenue (AOV's numerator) as DuckDB's.
            assert found.units == duck_units, (found.units, duck_units)
            for variant, sums in found.metrics["aov"].items():
                assert abs(sums.totals.numerator_sum / duck_sums[variant] - 1) < 1e-9
            print(f"{units:>10,} {database:<10} {seconds:8.3f} s  units {found.units}", flush=True)
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
