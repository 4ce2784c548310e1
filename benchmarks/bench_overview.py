"""The overview (`GET /v1/experiments?include=results`): what each listed experiment costs.

The overview reads every listed experiment's newest stored look in one query and computes none
(it once computed each page, so its cost grew with the number of experiments times the cost of
one page; the K pages computed one by one show that cost). This script creates K
running checkout experiments over the same N visitors (a visitor in several experiments, as in a
shop running several tests) with 3 N conversions, in a fresh SQLite file (and, with --postgres,
a throwaway PostgreSQL schema), then times, in the same run: the plain list, the overview, and
the K results pages computed one by one.

    .venv/bin/python -m benchmarks.bench_overview --experiments 10 --units 20000 --repeats 5 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from benchmarks.bench_results import START, conversion_records, generate, median_seconds
from experiments import definitions
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models.event import Conversion, Exposure
from experiments.results.overview import with_results
from experiments.results.pipeline import compute_results
from tests.experiments.results.helpers import start_experiment
from tests.services import fresh_postgres_schema

NOW = START + timedelta(days=30)


def load(
    engine: Engine, keys: list[str], exposures: pd.DataFrame, conversions: pd.DataFrame
) -> None:
    """The same visitors exposed in each experiment (each its own split), conversions once."""
    rng = np.random.default_rng(2)
    rows = []
    for key in keys:
        flipped = rng.random(len(exposures)) < 0.5
        variants = np.where(flipped, exposures.variant, "control")
        rows += [
            {
                "event_id": f"{key}-{index}",
                "experiment": key,
                "variant": str(variant),
                "unit_id": unit,
                "timestamp": moment.to_pydatetime(),
                "received_at": NOW,
            }
            for index, (unit, variant, moment) in enumerate(
                zip(exposures.unit_id, variants, exposures.timestamp, strict=True)
            )
        ]
    events = [
        {
            "event_id": f"c{index}",
            "name": name,
            "unit_id": unit,
            "value": value,
            "properties": None,
            "timestamp": moment,
            "received_at": NOW,
        }
        for index, (name, unit, value, moment) in enumerate(conversion_records(conversions))
    ]
    with engine.begin() as connection:
        connection.execute(insert(Exposure), rows)
        connection.execute(insert(Conversion), events)


def create(engine: Engine, keys: list[str]) -> None:
    for key in keys:
        start_experiment(engine, key, START, name=key)


def measure(url: str, experiments: int, units: int, repeats: int) -> tuple[float, float, float]:
    upgrade(url)
    engine = make_engine(url)
    keys = [f"bench-{index}" for index in range(experiments)]
    try:
        exposures, conversions = generate(units)
        load(engine, keys, exposures, conversions)
        create(engine, keys)

        def plain() -> object:
            with session_scope(engine) as session:
                return definitions.list_experiments(session, 200, 0)

        def overview() -> object:
            with session_scope(engine) as session:
                page = definitions.list_experiments(session, 200, 0)
                with_results(session, page)
                return page

        def one_by_one() -> object:
            with session_scope(engine) as session:
                return [compute_results(session, key, now=NOW) for key in keys]

        overview()  # warm caches once, as a server would be
        return (
            median_seconds(plain, repeats),
            median_seconds(overview, repeats),
            median_seconds(one_by_one, repeats),
        )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=10)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    options = parser.parse_args()
    machine = f"{platform.platform()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}")
    print(f"{options.experiments} experiments x {options.units:,} visitors, 3 conversions each")
    print(
        f"{'database':<10} {'list s':>8} {'overview s':>11} {'pages s':>8} {'per experiment s':>17}"
    )
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        runs.append(("sqlite", measure(url, options.experiments, options.units, options.repeats)))
    if options.postgres:
        with fresh_postgres_schema(options.postgres) as url:
            runs.append(
                ("postgres", measure(url, options.experiments, options.units, options.repeats))
            )
    for name, (plain, overview, pages) in runs:
        each = overview / options.experiments
        print(f"{name:<10} {plain:>8.3f} {overview:>11.2f} {pages:>8.2f} {each:>17.3f}")


if __name__ == "__main__":
    main()
