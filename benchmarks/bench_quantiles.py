"""One look's median order value (`experiments.results.sums.quantiles.quantile_sums`) on a large
simulated shop: milliseconds per call (wall, and this process's CPU, which leaves out
PostgreSQL's) and the SQL statements it sends.

    .venv/bin/python -m benchmarks.bench_quantiles --units 100000 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run it from another tree (`cd BEFORE && $ROOT/.venv/bin/python -m benchmarks.bench_quantiles`)
for the comparison, alternating. The shop (`simulate_shop`, seed 5) is loaded into a fresh SQLite
file (then SQLite's ANALYZE, unless --no-analyze) and, with --postgres, a fresh PostgreSQL
schema (dropped afterwards); each figure is the median of --calls calls.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from experiments.db import make_engine
from experiments.metrics import builtin_metrics
from experiments.migrate import upgrade
from experiments.results.sums.quantiles import quantile_sums
from tests.experiments.results.simulation import START, simulate_shop
from tests.services import fresh_postgres_schema

END = START + timedelta(days=30)


def measure(url: str, units: int, calls: int, analyze: bool) -> str:
    """Load the shop into `url` (with `analyze`, then SQLite's ANALYZE), then time
    `quantile_sums` of its median order value."""
    upgrade(url)
    engine = make_engine(url)
    try:
        simulate_shop(units, uplift=0.2, seed=5).load(engine)
        if analyze and engine.dialect.name == "sqlite":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        metric = builtin_metrics()["median_order_value"]
        sent = _statements(engine)
        walls, cpus = [], []
        for _ in range(calls):
            sent.clear()
            with engine.connect() as connection:
                wall, cpu = time.perf_counter(), time.process_time()
                found = quantile_sums(connection, "exp", ["control", "treatment"], metric, END)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
        control = found["control"]
        return (
            f"{engine.dialect.name:10} {statistics.median(walls) * 1000:8.1f} ms "
            f"({statistics.median(cpus) * 1000:.1f} ms CPU here), {len(sent)} statements; "
            f"control median {control.quantile} [{control.lower}, {control.upper}]"
        )
    finally:
        engine.dispose()


def _statements(engine: Engine) -> list[str]:
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a schema is made and dropped)")
    parser.add_argument(
        "--no-analyze", action="store_true", help="no ANALYZE of the SQLite file after loading"
    )
    args = parser.parse_args()
    print(f"{args.units:,} units, median of {args.calls} calls")
    with tempfile.TemporaryDirectory() as folder:
        print(
            measure(f"sqlite:///{folder}/quantiles.db", args.units, args.calls, not args.no_analyze)
        )
    if args.postgres:
        with fresh_postgres_schema(args.postgres) as url:
            print(measure(url, args.units, args.calls, not args.no_analyze))


if __name__ == "__main__":
    main()
