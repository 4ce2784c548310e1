"""The cost of the audit log on definition writes, through the domain functions the API calls.

One round is create -> patch -> start -> stop of a new experiment, each write in its own
transaction committed before the next (as the API now does before answering). Measured with the
audit log and, in the same run, with `record_change` replaced by a no-op, on SQLite and
optionally on PostgreSQL.

Run: .venv/bin/python -m benchmarks.bench_writes [--rounds 200 --runs 5] \\
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
Prints the median microseconds per write of each and their ratio. The PostgreSQL schema is
dropped afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest import mock

from benchmarks.httpload import machine
from experiments import audit, definitions, lifecycle
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models.experiment import ExperimentCreate, ExperimentUpdate
from tests.services import fresh_postgres_schema

WRITES_PER_ROUND = 4
BODY: dict[str, Any] = {
    "name": "One-page checkout",
    "template": "checkout",
    "variants": [
        {"key": "multi-step", "name": "Multi", "weight": 1},
        {"key": "one-page", "name": "One", "weight": 1},
    ],
}


@contextmanager
def audit_disabled() -> Iterator[None]:
    """Replace the recording function in the modules that call it (the comparison)."""

    def skip(*_args: object, **_kwargs: object) -> None:
        return None

    with (
        mock.patch.object(definitions, "record_change", skip),
        mock.patch.object(lifecycle, "record_change", skip),
    ):
        yield


def rounds(url: str, prefix: str, count: int) -> float:
    """Seconds per write over `count` rounds of create, patch, start, stop."""
    engine = make_engine(url)
    actor = audit.Actor(1, "bench")
    patch = ExperimentUpdate(name="Renamed")
    started = time.perf_counter()
    for index in range(count):
        key = f"{prefix}-{index}"
        data = ExperimentCreate.model_validate({"key": key, **BODY})
        steps: list[Callable[[Any], object]] = [
            partial(definitions.create_experiment, data=data, actor=actor),
            partial(
                lifecycle.update_experiment,
                key=key,
                patch=patch,
                actor=actor,
            ),
            partial(lifecycle.start_experiment, key=key, actor=actor),
            partial(lifecycle.stop_experiment, key=key, actor=actor),
        ]
        for step in steps:
            with session_scope(engine) as session:
                step(session)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed / (count * WRITES_PER_ROUND)


def measure(url: str, count: int, runs: int) -> tuple[float, float]:
    """Median microseconds per write (with the audit log, without), runs interleaved."""
    upgrade(url)
    rounds(url, "warm", 10)
    with_log, without = [], []
    for run in range(runs):
        with_log.append(rounds(url, f"audit-{run}", count))
        with audit_disabled():
            without.append(rounds(url, f"plain-{run}", count))
    return statistics.median(with_log) * 1e6, statistics.median(without) * 1e6


def report(name: str, figures: tuple[float, float]) -> None:
    with_log, without = figures
    print(f"{name:<11} {with_log:>12.0f} {without:>12.0f} {with_log / without:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    options = parser.parse_args()
    print(machine())
    print(f"{'database':<11} {'audit us':>12} {'no audit us':>12} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as folder:
        report("sqlite", measure(f"sqlite:///{folder}/bench.db", options.rounds, options.runs))
    if options.postgres:
        with fresh_postgres_schema(options.postgres) as url:
            report("postgresql", measure(url, options.rounds, options.runs))


if __name__ == "__main__":
    main()
