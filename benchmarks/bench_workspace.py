"""The pages at scale: server time of each page a person uses, with 100 experiments and 20 users.

Creates `--experiments` CTA experiments through the domain (a third running, a third stopped,
the rest drafts) and a running newsletter, `--exposures` exposures over the last 14 days (which
the live plan measures the traffic from), a custom metric, a webhook, a few keys, and `--users`
accounts with 5 open invitations, each change in the audit log. Then, logged in as an admin
through the login form (TestClient), times every page in turn (the list, an experiment's page,
each workspace page, the users and account pages), `--runs` rounds, and prints the median
milliseconds per page (the time of the request through the app: server time plus the
in-process client's small overhead), and the measuring of the traffic alone (what the first
new-experiment page after a start waits for).

    .venv/bin/python -m benchmarks.bench_workspace --experiments 100 --users 20 --runs 15

Add `--postgres URL` to measure PostgreSQL instead of SQLite (the schema is dropped after).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.app import create_app
from experiments import definitions, invitations, lifecycle
from experiments.audit import COMMAND_LINE
from experiments.db import make_engine, session_scope
from experiments.encryption import KeyRing
from experiments.keys import create_key
from experiments.metrics import create_metric
from experiments.migrate import upgrade
from experiments.models.api_key import KeyScope
from experiments.models.event import Exposure
from experiments.models.experiment import ExperimentCreate
from experiments.models.metric import MetricCreate
from experiments.models.user import UserRole
from experiments.models.webhook import WebhookCreate
from experiments.planning import visitors_per_day
from experiments.results.overview import Listing, with_results
from experiments.results.snapshots import take_snapshot
from experiments.settings import load_settings
from experiments.webhooks.store import create_webhook
from experiments.webhooks.targets import TargetPolicy
from tests.accounts import add_user, log_in
from tests.api.test_newsletter import newsletter
from tests.services import scratch_database

PLAN = "primary=conversion_rate&mde_relative=0.1&baseline_rate=0.025&visitors_per_day=4000"
PAGES = {
    "list": "/",
    "experiment": "/experiments/exp-001",
    "new (cta)": "/experiments/new?template=cta",
    "plan (text)": f"/plan?{PLAN}",
    "edit draft": "/experiments/exp-000/edit",
    "edit running": "/experiments/exp-001/edit",
    "ramp": "/experiments/exp-001/ramp",
    "stop (confirm)": "/experiments/exp-001/stop",
    "archive (confirm)": "/experiments/exp-002/archive",
    "counts": "/experiments/newsletter/counts",
    "history": "/experiments/exp-001/history",
    "metrics": "/catalogue",
    "audit log": "/audit",
    "webhooks": "/webhooks",
    "deliveries": "/webhooks/1/deliveries",
    "keys": "/keys",
    "users": "/users",
    "account": "/account",
}
INVITATIONS = 5


def fill(engine: Engine, experiments: int, exposures: int, encryption_key: str) -> None:
    with session_scope(engine) as session:
        # A public address, so the check passes without a lookup (nothing is ever sent).
        targets = TargetPolicy(resolve=lambda _host, _port: ["192.0.2.10"], allow_private=True)
        webhook = WebhookCreate.model_validate(
            {"url": "https://hooks.example.com/vekst", "events": ["srm_detected"]}
        )
        create_webhook(session, webhook, targets, KeyRing([encryption_key]))
        letter = ExperimentCreate.model_validate({**newsletter(), "key": "newsletter"})
        definitions.create_experiment(session, letter)
        lifecycle.start_experiment(session, "newsletter")
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


def take_looks(engine: Engine, experiments: int) -> None:
    """A look of each started experiment (its first: the backfill of its days), as the
    scheduler would have taken: the list shows each one's newest."""
    for number in range(experiments):
        if number % 3 in (1, 2):
            with session_scope(engine) as session:
                take_snapshot(session, f"exp-{number:03d}", on_new_look=None)


def add_people(engine: Engine, people: int) -> None:
    """`people` accounts in all (the admin who logs in is made at login) and 5 invitations."""
    for number in range(people - 1):
        role = ("viewer", "editor", "admin")[number % 3]
        add_user(engine, role, f"person{number}@shop.example")
    with session_scope(engine) as session:
        for number in range(INVITATIONS):
            invitations.invite(
                session, f"guest{number}@shop.example", UserRole.VIEWER, COMMAND_LINE
            )


def list_reads(engine: Engine, runs: int) -> dict[str, list[float]]:
    """The list's 100 rows read with their newest looks, as whole definitions (the API's list)
    and as the five columns the page reads, alternating; the first round is a warm-up."""
    ways: dict[str, Callable[[Session], Listing]] = {
        "whole definitions": lambda session: definitions.list_experiments(session, 100, 0),
        "five columns": lambda session: definitions.list_for_overview(session, 100),
    }
    reading: dict[str, list[float]] = {way: [] for way in ways}
    for round_number in range(runs + 1):
        for way, read in ways.items():
            began = time.perf_counter()
            with session_scope(engine) as session:
                with_results(session, read(session))
            if round_number:
                reading[way].append(1000 * (time.perf_counter() - began))
    return reading


def measure(url: str, experiments: int, exposures: int, people: int, runs: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    encryption_key = Fernet.generate_key().decode()
    try:
        fill(engine, experiments, exposures, encryption_key)
        add_people(engine, people)
        began = time.perf_counter()
        take_looks(engine, experiments)
        print(f"looks taken in {time.perf_counter() - began:.0f} s")
        measuring = []
        for _ in range(runs):
            began = time.perf_counter()
            with session_scope(engine) as session:
                visitors_per_day(session, datetime.now(UTC))
            measuring.append(1000 * (time.perf_counter() - began))
    finally:
        engine.dispose()
    settings = load_settings(
        database_url=url, start_scheduler=False, encryption_keys=encryption_key
    )
    with TestClient(create_app(settings)) as client:
        log_in(client, "admin")
        for path in PAGES.values():
            timed_ms(client, path)  # warm up once, as a server would be
        times: dict[str, list[float]] = {name: [] for name in PAGES}
        for _ in range(runs):
            for name, path in PAGES.items():
                times[name].append(timed_ms(client, path))
        reading = list_reads(client.app.state.engine, runs)  # type: ignore[attr-defined]
    medians = {name: statistics.median(values) for name, values in times.items()}
    # What the first new-experiment page after a start waits for (then kept 15 minutes), and
    # the list's reading of its 100 rows with their newest looks, the old way and the new.
    return {
        **medians,
        "traffic, measured": statistics.median(measuring),
        **{f"list read, {way}": statistics.median(ms) for way, ms in reading.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--exposures", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    options = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {platform.python_version()}")
    with scratch_database(options.postgres) as url:
        figures = measure(url, options.experiments, options.exposures, options.users, options.runs)
    engine = "postgresql" if options.postgres else "sqlite"
    print(
        f"{engine}: {options.experiments} experiments, {options.users} users, "
        f"{options.exposures:,} exposures"
    )
    print("page                           median ms")
    for name, median in figures.items():
        print(f"{name:<30} {median:>9.1f}")


if __name__ == "__main__":
    main()
