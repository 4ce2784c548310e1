"""The holdout's page (`GET /holdouts/{key}`): what a view costs, served from the stored look.

Fills a fresh SQLite file (or, with --postgres, a throwaway PostgreSQL schema) with a 5 %
holdout over `--units` units a group (their holdout exposures over the last 14 days, a third
buying) and `--traffic` other exposures over the same days (the shop's pace the power sentence
reads), takes one look, then times in the same run, `--runs` rounds after one warm-up: the
page, the list `GET /holdouts`, the API's `GET /v1/holdouts/{key}/results` (the same look, its
power measured on each request) and, alone, the power sentence measured on the spot against
the one the page reads from the traffic the workspace keeps. Medians in milliseconds.

    .venv/bin/python -m benchmarks.bench_holdout_page --units 20000 --traffic 200000 --runs 15
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from api.app import create_app
from experiments import holdouts
from experiments.db import make_engine, session_scope
from experiments.holdout_power import Traffic
from experiments.metrics import metric_catalog
from experiments.migrate import upgrade
from experiments.models.event import Conversion, Exposure
from experiments.models.holdout import HoldoutCreate
from experiments.planning import visitors_per_day
from experiments.recent_baseline import recent_baseline
from experiments.results.holdout_looks import power_of, take_holdout_look
from experiments.settings import load_settings
from tests.accounts import log_in
from tests.conftest import ADMIN_KEY
from tests.services import scratch_database

KEY = "spring"
DAYS = 14 * 86400


def fill(engine: Engine, units: int, traffic: int) -> None:
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        data = HoldoutCreate(
            key=KEY, name="Spring", share=0.05, experiments="all_new", ends_at=now + timedelta(60)
        )
        holdouts.create_holdout(session, data, now=now - timedelta(days=15))
    exposures, conversions = [], []
    for index in range(units):
        for group in ("holdout", "measurement"):
            at = now - timedelta(seconds=(index * 7919) % DAYS)
            unit = f"{group}-{index}"
            exposures.append(_exposure(f"{unit}", KEY, group, unit, at))
            if index % 3 == 0:
                conversions.append(_purchase(f"c-{unit}", unit, at + timedelta(minutes=5)))
    for index in range(traffic):
        at = now - timedelta(seconds=(index * 104729) % DAYS)
        exposures.append(_exposure(f"t{index}", "shop", "a", f"visitor-{index}", at))
    with engine.begin() as connection:
        for table, rows in ((Exposure, exposures), (Conversion, conversions)):
            for start in range(0, len(rows), 50_000):
                connection.execute(insert(table), rows[start : start + 50_000])


def _exposure(
    event: str, experiment: str, variant: str, unit: str, at: datetime
) -> dict[str, object]:
    return {
        "event_id": event,
        "experiment": experiment,
        "variant": variant,
        "unit_id": unit,
        "timestamp": at,
        "received_at": at,
    }


def _purchase(event: str, unit: str, at: datetime) -> dict[str, object]:
    return {
        "event_id": event,
        "name": "purchase",
        "unit_id": unit,
        "value": 650.0,
        "timestamp": at,
        "received_at": at,
    }


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm up once, as a server would be
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times)


def measure(url: str, units: int, traffic: int, runs: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    try:
        fill(engine, units, traffic)
        with session_scope(engine) as session:
            take_holdout_look(session, KEY)
            holdout = holdouts.get_holdout(session, KEY)
            primary = metric_catalog(session)[holdout.metrics[0]]
            now = datetime.now(UTC)
            kept = Traffic(visitors_per_day(session, now), recent_baseline(session, primary, now))
            power = {
                "power, measured on the spot": lambda: power_of(session, holdout, now, units),
                "power, at the kept traffic": lambda: power_of(session, holdout, now, units, kept),
            }
            figures = {name: median_ms(action, runs) for name, action in power.items()}
    finally:
        engine.dispose()
    settings = load_settings(database_url=url, admin_key=ADMIN_KEY, start_scheduler=False)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with TestClient(create_app(settings)) as client:
        log_in(client, "viewer")
        requests = {
            "GET /holdouts/{key}": lambda: _ok(client.get(f"/holdouts/{KEY}")),
            "GET /holdouts": lambda: _ok(client.get("/holdouts")),
            "GET /v1/holdouts/{key}/results": lambda: _ok(
                client.get(f"/v1/holdouts/{KEY}/results", headers=admin)
            ),
        }
        figures |= {name: median_ms(action, runs) for name, action in requests.items()}
    return figures


def _ok(response: object) -> None:
    status = getattr(response, "status_code", None)
    if status != 200:
        raise RuntimeError(f"answered {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000, help="units in each group")
    parser.add_argument("--traffic", type=int, default=200_000, help="other exposures, 14 days")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    options = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    with scratch_database(options.postgres) as url:
        figures = measure(url, options.units, options.traffic, options.runs)
    engine = "postgresql" if options.postgres else "sqlite"
    print(f"{engine}: {options.units:,} units a group, {options.traffic:,} other exposures")
    print(f"{'what':<34} median ms")
    for name, median in figures.items():
        print(f"{name:<34} {median:>9.1f}")


if __name__ == "__main__":
    main()
