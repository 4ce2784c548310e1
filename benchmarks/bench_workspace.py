"""The workspace pages at scale: server time of each page with 100 experiments.

Creates `--experiments` CTA experiments through the domain (a third running, a third stopped,
the rest drafts), `--exposures` exposures over the last 14 days (which the live plan measures
the traffic from), a custom metric, a webhook and a few keys, each change in the audit log.
Then, logged in through the app (TestClient), times each workspace page in turn, `--runs`
rounds, and prints the median milliseconds per page (the time of the request through the app:
server time plus the in-process client's small overhead), and the measuring of the traffic
alone (what the first new-experiment page after a start waits for). Personal accounts are not
built yet, so there are no users to list (the target's "20 users").

    .venv/bin/python -m benchmarks.bench_workspace --experiments 100 --exposures 100000 --runs 15

Add `--postgres URL` to measure PostgreSQL instead of SQLite (the schema is dropped after).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from api.app import create_app
from experiments import definitions, lifecycle
from experiments.db import make_engine, session_scope
from experiments.keys import create_key
from experiments.metrics import create_metric
from experiments.migrate import upgrade
from experiments.models.api_key import KeyScope
from experiments.models.event import Exposure
from experiments.models.experiment import ExperimentCreate
from experiments.models.metric import MetricCreate
from experiments.planning import visitors_per_day
from experiments.settings import load_settings
from tests.services import fresh_postgres_schema

ADMIN_KEY = "bench-admin-key-0123456789"
PAGES = {
    "list": "/",
    "new (cta)": "/experiments/new?template=cta",
    "edit draft": "/experiments/exp-000/edit",
    "edit running": "/experiments/exp-001/edit",
    "ramp": "/experiments/exp-001/ramp",
    "history": "/experiments/exp-001/history",
    "metrics": "/catalogue",
    "audit log": "/audit",
    "webhooks": "/webhooks",
    "keys": "/keys",
}


@contextmanager
def database(postgres: str | None) -> Iterator[str]:
    if postgres:
        with fresh_postgres_schema(postgres) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def fill(engine: Engine, experiments: int, exposures: int) -> None:
    with session_scope(engine) as session:
        create_metric(
            session,
            MetricCreate(
                key="wishlist_rate",
                name="Wishlist rate",
                kind="conversion",
                numerator_event="add_to_wishlist",
            ),
        )
        for scope in (KeyScope.SDK, KeyScope.SERVER, KeyScope.ADMIN):
            create_key(session, scope, f"bench {scope.value}")
        for number in range(experiments):
            key = f"exp-{number:03d}"
            data = ExperimentCreate.model_validate(
                {
                    "key": key,
                    "name": f"CTA test {number}",
                    "template": "cta",
                    "variants": [
                        {"key": "control", "name": "Add to cart", "weight": 1},
                        {"key": "b", "name": "Kjøp nå", "weight": 1, "payload": {"text": "Kjøp"}},
                    ],
                    "targeting": {"all": [{"attribute": "country", "op": "eq", "value": "NO"}]},
                }
            )
            definitions.create_experiment(session, data)
            if number % 3 in (1, 2):
                lifecycle.start_experiment(session, key)
            if number % 3 == 2:
                lifecycle.stop_experiment(session, key, "b")
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": f"x{index}",
            "experiment": f"exp-{1 + 3 * (index % (experiments // 3)):03d}",
            "variant": "control" if index % 2 else "b",
            "unit_id": f"visitor-{index}",
            "timestamp": now - timedelta(seconds=index % (14 * 86400)),
            "received_at": now,
        }
        for index in range(exposures)
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), 50_000):
            connection.execute(insert(Exposure), rows[start : start + 50_000])


def timed_ms(client: TestClient, path: str) -> float:
    began = time.perf_counter()
    response = client.get(path)
    elapsed = 1000 * (time.perf_counter() - began)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return elapsed


def measure(url: str, experiments: int, exposures: int, runs: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    try:
        fill(engine, experiments, exposures)
        measuring = []
        for _ in range(runs):
            began = time.perf_counter()
            with session_scope(engine) as session:
                visitors_per_day(session, datetime.now(UTC))
            measuring.append(1000 * (time.perf_counter() - began))
    finally:
        engine.dispose()
    settings = load_settings(database_url=url, admin_key=ADMIN_KEY, start_scheduler=False)
    with TestClient(create_app(settings)) as client:
        login = client.post("/login", data={"key": ADMIN_KEY}, follow_redirects=False)
        if login.status_code != 303:
            raise RuntimeError(login.text)
        for path in PAGES.values():
            timed_ms(client, path)  # warm up once, as a server would be
        times: dict[str, list[float]] = {name: [] for name in PAGES}
        for _ in range(runs):
            for name, path in PAGES.items():
                times[name].append(timed_ms(client, path))
    medians = {name: statistics.median(values) for name, values in times.items()}
    # What the first new-experiment page after a start waits for (then kept 15 minutes).
    return {**medians, "traffic, measured": statistics.median(measuring)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--exposures", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    options = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {platform.python_version()}")
    with database(options.postgres) as url:
        figures = measure(url, options.experiments, options.exposures, options.runs)
    engine = "postgresql" if options.postgres else "sqlite"
    print(f"{engine}: {options.experiments} experiments, {options.exposures:,} exposures")
    print("page               median ms")
    for name, median in figures.items():
        print(f"{name:<18} {median:>9.1f}")


if __name__ == "__main__":
    main()
