"""The first look of a checkout experiment (percentile-capped revenue) against its age: the long
version of the Chromium page tests' filled experiment.

Those tests start the experiment 12 days ago (tests/api/pages/test_browser.py, `DAYS_RUN`).
Started at the simulation's own START (March 2026) the first look backfilled 180 looks (the
most it takes) and, the capped metrics having no one-pass backfill, loaded each on its own: most
of each page test's time. This prints the seconds of that first look (`GET .../results` with
`fresh=true`, in process) for the given ages, so a one-pass capped backfill shows its gain here:

    .venv/bin/python -m benchmarks.bench_capped_backfill --days 12 60 180 \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Without --postgres only SQLite is measured. The PostgreSQL schemas are dropped afterwards.
`--visitors 40000` is the README demo's traffic, whose caps cap orders on every day.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from experiments.db import make_engine
from experiments.migrate import upgrade
from experiments.settings import load_settings
from tests.api.pages.test_browser import CHECKOUT
from tests.experiments.results.simulation import simulate_shop
from tests.services import fresh_postgres_schema

ADMIN_KEY = "bench-admin-key-0123456789"


def first_look_seconds(url: str, days: int, visitors: int = 4000) -> tuple[float, int]:
    """Seconds of the first look of the page tests' checkout started `days` days ago with
    `visitors` simulated visitors, and the number of that look (the looks it backfilled)."""
    upgrade(url)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=days)
    settings = load_settings(database_url=url, admin_key=ADMIN_KEY, start_scheduler=False)
    with TestClient(create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        client.post("/v1/experiments", json=CHECKOUT).raise_for_status()
        client.post("/v1/experiments/exp/start").raise_for_status()
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                connection.execute(
                    text("UPDATE experiments SET started_at = :start WHERE key = 'exp'"),
                    {"start": start.replace(tzinfo=None)},
                )
            simulate_shop(visitors, uplift=0.8, seed=21, start=start).load(engine)
        finally:
            engine.dispose()
        began = time.perf_counter()
        page = client.get("/v1/experiments/exp/results", params={"fresh": "true"})
        elapsed = time.perf_counter() - began
        page.raise_for_status()
        return elapsed, int(page.json()["look"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, nargs="+", default=[12, 60, 180])
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure beside SQLite")
    parser.add_argument(
        "--visitors", type=int, default=4000, help="simulated visitors (the page tests': 4,000)"
    )
    options = parser.parse_args()
    print(f"{'database':<10} {'days':>5} {'looks':>6} {'first look s':>13}")
    for days in options.days:
        with tempfile.TemporaryDirectory() as folder:
            seconds, looks = first_look_seconds(
                f"sqlite:///{Path(folder) / 'bench.db'}", days, options.visitors
            )
        print(f"{'sqlite':<10} {days:>5} {looks:>6} {seconds:>13.1f}")
        if options.postgres:
            with fresh_postgres_schema(options.postgres) as url:
                seconds, looks = first_look_seconds(url, days, options.visitors)
            print(f"{'postgres':<10} {days:>5} {looks:>6} {seconds:>13.1f}")


if __name__ == "__main__":
    main()
