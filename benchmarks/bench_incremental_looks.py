"""An hourly look after an hour of traffic: incremental against full, at N exposed units.

Data as in `bench_results` (N exposed units, 3 N conversions over two weeks, bulk loaded, then
ANALYZE / VACUUM ANALYZE), and an experiment with the checkout metrics but neither percentile
caps (see `--capped` below) nor the median order value (computed from every event at every
look, docs/results.md). Its first look
(with the backfill) is taken an hour before the end; then an hour of traffic is stored: 2 % of
the units buy or add to cart, new units (0.5 % of N) are exposed, and a few late events with old
timestamps arrive. Then, alternating, `--repeats` times each, both at the same end on the same
data:

- incremental: `take_snapshot` from the stored look (the units touched since its mark);
- full: `take_snapshot` with the guard at 0, so it reads every event (`full_look_every`);
- the bare aggregation of a full look (`aggregate`) with and without the ingestion mark's id
  ceiling, which every stored full look now carries.

Each new look is deleted after it is timed, so every run starts from the same stored look. The
looks' CPU time is measured too (`cpu_time`: this process, a full look's parts in child
interpreters on SQLite, and PostgreSQL's processes on this machine): a full look runs in parts
on every core (`unit_parts`), an incremental look does not, so "cpu ratio" compares the work
and "ratio" the wall time.

    .venv/bin/python -m benchmarks.bench_incremental_looks --sizes 1000000 --repeats 3 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

With `--capped` the experiment has the checkout template's percentile caps (`aov` and
`revenue_per_visitor` at the 99.9th percentile): its look is incremental only while the caps stay
where the first look left them, and the table's `kind` says which it was (the hour of traffic's
orders are the first look's lognormal ones, and `--hour-value V` gives each new purchase the
value V instead, say one below every cap).

Without --postgres only SQLite is measured. The PostgreSQL schema is dropped afterwards, unless
`--keep FOLDER` is given: the loaded databases (an SQLite file in FOLDER, a PostgreSQL schema
`incremental_N`) are then kept, and a later run with the same FOLDER and size measures them again
without generating nor loading anything (loading 1,000,000 units takes minutes). Remove the file
and drop the schema to start afresh.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import col

from benchmarks.bench_results import START, databases, generate, load
from benchmarks.cpu_time import cpu_seconds
from experiments.db import make_engine, session_scope
from experiments.metrics import builtin_metrics
from experiments.migrate import upgrade
from experiments.models.snapshot import ResultSnapshot
from experiments.results.snapshots import take_snapshot
from experiments.results.sums.aggregation import aggregate
from experiments.results.sums.ingestion_marks import take_ceiling
from tests.experiments.results.helpers import start_experiment
from tests.experiments.results.simulation import RawEvents
from tests.services import schema_url

END = START + timedelta(days=30)  # after every generated event: none is dated after a look
SELECTION = {
    "primary": "conversion_rate",
    "secondary": ["aov", "revenue_per_visitor", "checkout_start_rate"],
    "guardrails": ["cart_abandonment", "refund_rate"],
}
VARIANTS = ["control", "treatment"]
CHECKOUT_CAPS = {"aov": 99.9, "revenue_per_visitor": 99.9}  # the checkout template's


def an_hour_of_traffic(units: int, seed: int = 2, value: float | None = None) -> RawEvents:
    """2 % of the units buy or add to cart in the last hour, 0.5 % new units are exposed (a
    third of them buy), and 100 late purchases with timestamps days old arrive (each purchase
    worth `value` when given)."""
    rng = np.random.default_rng(seed)
    hour = RawEvents()

    def moment() -> datetime:
        return END - timedelta(milliseconds=int(rng.integers(1, 3_600_000)))

    for unit in rng.choice(units, units // 50, replace=False):
        name = "purchase" if rng.random() < 0.4 else "add_to_cart"
        drawn = float(np.round(rng.lognormal(6.2, 0.8), 2))
        order = (drawn if value is None else value) if name == "purchase" else None
        hour.convert(f"u{unit}", name, moment(), order)
    for index in range(units // 200):
        at = moment()
        hour.expose(f"new{index}", VARIANTS[index % 2], at, "bench")
        if index % 3 == 0:
            order = 450.0 if value is None else value
            hour.convert(f"new{index}", "purchase", at + timedelta(seconds=1), order)
    for unit in rng.choice(units, 100, replace=False):
        order = 199.0 if value is None else value
        hour.convert(f"u{unit}", "purchase", START + timedelta(days=3), order)
    for row in [*hour.exposures, *hour.conversions]:
        row["event_id"] = f"hour-{row['event_id']}"
        row["received_at"] = END
    return hour


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """The wall time and the CPU time (`cpu_time`: with the parts' processes and PostgreSQL's
    backends) of `run()`."""
    began, spent = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - began, cpu_seconds() - spent


Events = Callable[[], tuple[pd.DataFrame, pd.DataFrame]]


def measure(
    url: str, units: int, events: Events, options: argparse.Namespace
) -> tuple[dict[str, float], str]:
    """The medians at `url`, loading `events()` there first unless a kept run loaded them, and
    the kind of the look that could be incremental."""
    upgrade(url)
    engine = make_engine(url)
    selection = SELECTION | ({"cap_percentiles": CHECKOUT_CAPS} if options.capped else {})
    try:
        if not _loaded(engine):
            load(engine, *events())
            start_experiment(engine, "bench", START, name="Hourly looks", metrics=selection)
            with session_scope(engine) as session:
                take_snapshot(session, "bench", END - timedelta(hours=1), on_new_look=None)
            an_hour_of_traffic(units, value=options.hour_value).load(engine)
        return _alternate(engine, options.repeats, options.capped)
    finally:
        engine.dispose()


def _loaded(engine: Engine) -> bool:
    """Whether an earlier run kept this database with its data and first look."""
    with session_scope(engine) as session:
        looks = select(func.count()).where(col(ResultSnapshot.experiment) == "bench")
        return bool(session.execute(looks).scalar_one())


def _alternate(engine: Engine, repeats: int, capped: bool) -> tuple[dict[str, float], str]:
    def look(every: timedelta) -> Callable[[], object]:
        def take() -> object:
            with session_scope(engine) as session:
                taken = take_snapshot(
                    session, "bench", END, on_new_look=None, full_look_every=every
                )
                kinds.append(taken.results["look_kind"])
                return taken

        return take

    def aggregation(marked: bool) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as connection:
                ceiling = take_ceiling(connection) if marked else None
                caps = CHECKOUT_CAPS if capped else None
                return aggregate(
                    connection,
                    "bench",
                    VARIANTS,
                    metrics,
                    END,
                    ceiling=ceiling,
                    cap_percentiles=caps,
                )

        return run

    catalog = builtin_metrics()
    metrics = [catalog[key] for key in ["conversion_rate", *SELECTION["secondary"]]]
    metrics += [catalog[key] for key in SELECTION["guardrails"]]
    kinds: list[dict[str, object]] = []
    runs: dict[str, list[float]] = {name: [] for name in ("incremental", "full", "bare", "marked")}
    runs |= {"incremental cpu": [], "full cpu": []}
    for _ in range(repeats):
        for name, run in (
            ("incremental", look(timedelta(days=365))),
            ("full", look(timedelta(0))),
            ("bare", aggregation(False)),
            ("marked", aggregation(True)),
        ):
            wall, cpu = timed(run)
            runs[name].append(wall)
            if f"{name} cpu" in runs:
                runs[f"{name} cpu"].append(cpu)
            with session_scope(engine) as session:
                session.execute(delete(ResultSnapshot).where(col(ResultSnapshot.as_of) == END))
    first = kinds[0]  # the look that may start from the stored one
    kind = str(first["kind"]) if first["reason"] is None else f"full: {first['reason']}"
    assert capped or kind == "incremental", kinds
    medians = {name: statistics.median(times) for name, times in runs.items()}
    return medians | {"units_read": float(str(first.get("units_read") or 0))}, kind


def command_line() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--keep", type=Path, help="keep the loaded databases here and reuse them")
    parser.add_argument("--capped", action="store_true", help="the checkout's percentile caps")
    parser.add_argument("--hour-value", type=float, help="the value of the hour's purchases")
    return parser.parse_args()


def kept_databases(options: argparse.Namespace, units: int) -> Iterator[tuple[str, str]]:
    """(name, URL) of each database `--keep` keeps for `units` units, created when missing."""
    folder: Path = options.keep
    folder.mkdir(parents=True, exist_ok=True)
    if not options.skip_sqlite:
        yield "sqlite", f"sqlite:///{folder / f'incremental-{units}.db'}"
    if options.postgres:
        yield "postgresql", created_schema_url(options.postgres, f"incremental_{units}")


def created_schema_url(postgres_url: str, schema: str) -> str:
    """The URL of `schema` in the database of `postgres_url`, created when missing."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    return schema_url(postgres_url, schema)


def main() -> None:
    options = command_line()
    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(f"load average at the start: {os.getloadavg()}")
    header = (
        *("database", "units", "read", "incremental", "full", "ratio", "bare", "marked"),
        *("inc. cpu", "full cpu", "cpu ratio", "kind"),
    )
    print(" ".join(f"{name:>11}" for name in header))
    for units in options.sizes:
        events = cache(partial(generate, units))  # generated once, when a database needs them
        kept = options.keep is not None
        for database, url in kept_databases(options, units) if kept else databases(options):
            got, kind = measure(url, units, events, options)
            ratio = got["incremental"] / got["full"]
            cells = (
                f"{database:>11}",
                f"{units:>11,}",
                f"{int(got['units_read']):>11,}",
                *(f"{got[name]:>10.3f}s" for name in ("incremental", "full")),
                f"{ratio:>11.3f}",
                *(f"{got[name]:>10.3f}s" for name in ("bare", "marked")),
                *(f"{got[name]:>10.3f}s" for name in ("incremental cpu", "full cpu")),
                f"{got['incremental cpu'] / got['full cpu']:>11.3f}",
                f" {kind}",
            )
            print(" ".join(cells), flush=True)
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
