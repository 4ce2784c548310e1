"""What exposure attributes (issue #23) cost the event hot path, before and after, in one run.

Run:

    .venv/bin/python -m benchmarks.bench_exposure_attributes --before DIR

where DIR holds the tree to compare with (`git archive <commit> experiments api sdk/python |
tar -x -C DIR`). Rounds alternate between the trees, each in a fresh process, and time per
500-exposure batch: intake (parse the body, validate), the stream entry (encode, decode) and
the SQLite insert (prepare the rows, one executemany). Exposures without attributes are timed
on both trees; exposures with 4 attributes (2 of them dimensions) on this tree only. It prints
the medians and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENTS_PER_BATCH = 500
BATCHES_PER_ROUND = 200
INSERTS_PER_ROUND = 40
HERE = Path(__file__).resolve().parent.parent


def _body(prefix: str, attributes: dict[str, Any] | None) -> bytes:
    now_ms = int(time.time() * 1000)
    events = []
    for i in range(EVENTS_PER_BATCH):
        event: dict[str, Any] = {
            "type": "exposure",
            "event_id": f"{prefix}-{i}",
            "unit_id": f"visitor-{i}",
            "experiment": "checkout",
            "variant": ("a", "b")[i % 2],
            "timestamp": now_ms,
        }
        if attributes is not None:
            event["attributes"] = attributes
        events.append(event)
    return json.dumps({"events": events}).encode()


def measure(with_attributes: bool) -> dict[str, float]:
    """Median microseconds per batch of each stage, in this process's tree."""
    from experiments.db import make_engine  # the tree measured
    from experiments.events.catalog import ExperimentSnapshot
    from experiments.events.entries import (
        EVENTS_FIELD,
        RECEIVED_FIELD,
        decode_entry,
        encode_events,
    )
    from experiments.events.intake import parse_batch
    from experiments.events.store import insert_rows, prepare_rows
    from experiments.events.types import KnownExperiment
    from experiments.events.validation import TimeWindow, validate_batch
    from experiments.migrate import upgrade

    known = KnownExperiment("running", frozenset({"a", "b"}))
    if with_attributes:
        known = KnownExperiment("running", frozenset({"a", "b"}), frozenset({"device", "market"}))
    catalog = ExperimentSnapshot({"checkout": known})
    sent = {"device": "mobile", "market": "NO", "plan": "pro", "cart_value": 649}
    bodies = [_body(f"b{n}", sent if with_attributes else None) for n in range(BATCHES_PER_ROUND)]
    intake: list[float] = []
    entry: list[float] = []
    batches = []
    for body in bodies:
        started = time.perf_counter()
        window = TimeWindow.at(datetime.now(UTC), 90)
        batch = validate_batch(parse_batch(body), window, catalog)
        middle = time.perf_counter()
        fields = {RECEIVED_FIELD: b"1764000000000000", EVENTS_FIELD: encode_events(batch.events)}
        decoded = decode_entry(fields)
        ended = time.perf_counter()
        if len(decoded) != EVENTS_PER_BATCH:
            raise RuntimeError(f"events were refused: {batch.rejected[:1]}")
        intake.append(middle - started)
        entry.append(ended - middle)
        batches.append(decoded)
    inserts: list[float] = []
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        for decoded in batches[:INSERTS_PER_ROUND]:
            started = time.perf_counter()
            rows = prepare_rows(decoded, sqlite=True)
            with engine.begin() as connection:
                insert_rows(connection, rows)
            inserts.append(time.perf_counter() - started)
        engine.dispose()
    return {
        "intake": statistics.median(intake) * 1e6,
        "entry": statistics.median(entry) * 1e6,
        "insert": statistics.median(inserts) * 1e6,
    }


def _round(tree: Path, with_attributes: bool) -> dict[str, float]:
    env = os.environ | {"PYTHONPATH": f"{tree}{os.pathsep}{tree / 'sdk' / 'python'}"}
    command = [sys.executable, str(Path(__file__).resolve()), "--measure"]
    if with_attributes:
        command.append("--with-attributes")
    output = subprocess.run(command, env=env, cwd=tree, check=True, capture_output=True)
    result: dict[str, float] = json.loads(output.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="the tree to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--with-attributes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        sys.stdout.write(json.dumps(measure(args.with_attributes)))
        return
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": [], "attributes": []}
    for _ in range(args.rounds):
        if args.before is not None:
            runs["before"].append(_round(args.before.resolve(), with_attributes=False))
        runs["after"].append(_round(HERE, with_attributes=False))
        runs["attributes"].append(_round(HERE, with_attributes=True))
    print(f"{EVENTS_PER_BATCH} exposures per batch, {args.rounds} rounds, medians (us per batch)")
    print(f"{'':32} {'intake':>10} {'entry':>10} {'insert':>10}")
    labels = {
        "before": "before, no attributes",
        "after": "after, no attributes",
        "attributes": "after, 4 attributes (2 kept)",
    }
    for name, rounds in runs.items():
        if rounds:
            medians = [statistics.median(r[stage] for r in rounds) for stage in rounds[0]]
            print(f"{labels[name]:32} " + " ".join(f"{m:10.0f}" for m in medians))
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    print(f"machine: {machine}, Python {platform.python_version()}, {platform.system()}")


if __name__ == "__main__":
    main()
