"""Full looks, an older tree against this one: the first look with its backfill, and a full look.

Data as in `bench_results` (N exposed units, 1 % of them in both variants, 3 N conversions over
two weeks, bulk loaded, then ANALYZE / VACUUM ANALYZE) and the experiment of
`bench_incremental_looks` (the checkout metrics without percentile caps or the median order
value, the template's dimensions). Each round runs, in a child interpreter of each tree in turn
(before, this tree, before, ...), on the same data:

- first: `take_snapshot` of the experiment without a stored look, an hour before the end: the
  first look and its daily backfill;
- full: `take_snapshot` at the end with the guard at 0 (`full_look_every`), so it reads every
  event: what the stop's final look and a look after a changed definition do.

Each child deletes the experiment's looks first, so every round starts alike. The figures are
medians over the rounds, the ratio after / before; the children also print a digest of the
full look's sums to 9 significant digits (a difference is printed; on PostgreSQL one tree's own
rounds can differ in the last digits, so the golden output and the tests are the proof).

    BEFORE=$(mktemp -d)
    git archive <commit> api experiments stats sdk/python | tar -x -C "$BEFORE"
    .venv/bin/python -m benchmarks.bench_full_looks --before "$BEFORE" --sizes 1000000 \
        --repeats 3 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The generated data is kept for the next run: a SQLite file per size in `--cache` (default: the
system's temporary directory) and a PostgreSQL schema per size (`bench_full_looks_<N>`);
`--drop` removes both at the end. Without --postgres only SQLite is measured.
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
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from benchmarks.bench_incremental_looks import END, SELECTION, created_schema_url
from benchmarks.bench_results import START, generate, load
from experiments.db import make_engine
from experiments.migrate import upgrade
from tests.experiments.results.helpers import start_experiment

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("first", "full")

# Run in a child interpreter with a tree first on sys.path: times both looks of one round.
_ROUND = """
import hashlib, json, sys, time
from datetime import datetime, timedelta
from sqlalchemy import delete
from experiments.db import make_engine, session_scope
from experiments.models.snapshot import ResultSnapshot
from experiments.results.snapshots import take_snapshot

url, end = sys.argv[1], datetime.fromisoformat(sys.argv[2])
engine = make_engine(url)
with session_scope(engine) as session:
    session.execute(delete(ResultSnapshot).where(ResultSnapshot.experiment == "bench"))
times = {}
for kind, at, every in (
    ("first", end - timedelta(hours=1), timedelta(days=365)),
    ("full", end, timedelta(0)),
):
    began = time.perf_counter()
    with session_scope(engine) as session:
        look = take_snapshot(session, "bench", at, on_new_look=None, full_look_every=every)
        results, sums = look.results, look.sums
    times[kind] = time.perf_counter() - began

def rounded(value):
    # The sums to 1e-9 relative: the order a database adds floats in may change the last bits.
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items() if key != "basis"}
    if isinstance(value, list):
        return [rounded(item) for item in value]
    return value

text = json.dumps(rounded(sums), sort_keys=True, default=str)
digest = hashlib.sha256(text.encode()).hexdigest()
print(json.dumps({"times": times, "digest": digest[:16], "kind": results.get("look_kind")}))
engine.dispose()
"""


def run_round(tree: Path, url: str) -> dict[str, object]:
    """One round in a child interpreter importing `tree`'s packages."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _ROUND, url, END.isoformat()],
        cwd=tree,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the round in {tree} failed:\n{done.stderr[-3000:]}")
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _prepared(url: str, units: int) -> None:
    """Migrate, load N units' events and start the experiment, unless done before."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if "experiments" in inspect(connection).get_table_names():
                query = text("SELECT count(*) FROM experiments WHERE key = 'bench'")
                if connection.execute(query).scalar_one():
                    return
        upgrade(url)
        exposures, conversions = generate(units)
        load(engine, exposures, conversions)
        start_experiment(engine, "bench", START, name="Full looks", metrics=SELECTION)
    finally:
        engine.dispose()


def databases(options: argparse.Namespace, units: int) -> Iterator[tuple[str, str]]:
    """(name, URL) of each database holding N units' data, prepared on first use."""
    if not options.skip_sqlite:
        path = Path(options.cache) / f"bench-full-looks-{units}.db"
        yield "sqlite", f"sqlite:///{path}"
    if options.postgres:
        yield "postgresql", created_schema_url(options.postgres, f"bench_full_looks_{units}")


def drop(options: argparse.Namespace) -> None:
    """Remove the cached data of every size."""
    for units in options.sizes:
        (Path(options.cache) / f"bench-full-looks-{units}.db").unlink(missing_ok=True)
        if options.postgres:
            admin = create_engine(options.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                schema = f"bench_full_looks_{units}"
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def measure(
    url: str, units: int, before: Path, after: Path, repeats: int
) -> dict[str, dict[str, float]]:
    """Medians over `repeats` alternating rounds of each tree, per kind of look."""
    _prepared(url, units)
    trees = {"before": before, "after": after}
    runs: dict[str, dict[str, list[float]]] = {t: {k: [] for k in KINDS} for t in trees}
    digests: dict[str, set[str]] = {tree: set() for tree in trees}
    for _ in range(repeats):
        for name, tree in trees.items():
            found = run_round(tree, url)
            times = found["times"]
            assert isinstance(times, dict)
            for kind in KINDS:
                runs[name][kind].append(float(times[kind]))
            digests[name].add(str(found["digest"]))
    if digests["before"] != digests["after"]:
        print(f"  the full looks' sums differ: {digests}", flush=True)
    return {
        name: {kind: statistics.median(times) for kind, times in kinds.items()}
        for name, kinds in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the older tree")
    parser.add_argument("--after", type=Path, default=ROOT, help="the newer tree (this one)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", help="SQLAlchemy URL of a PostgreSQL database")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--cache", default=tempfile.gettempdir(), help="folder of SQLite files")
    parser.add_argument("--drop", action="store_true", help="remove the cached data at the end")
    options = parser.parse_args()
    python = platform.python_version()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {python}")
    print(f"load average at the start: {os.getloadavg()}")
    header = ("database", "units", "look", "before", "after", "after/before")
    print(" ".join(f"{name:>12}" for name in header), flush=True)
    for units in options.sizes:
        for database, url in databases(options, units):
            trees = options.before.resolve(), options.after.resolve()
            got = measure(url, units, *trees, options.repeats)
            for kind in KINDS:
                before, after = got["before"][kind], got["after"][kind]
                cells = (database, f"{units:,}", kind, f"{before:.3f}s", f"{after:.3f}s")
                line = " ".join(f"{cell:>12}" for cell in cells)
                print(f"{line} {after / before:>12.3f}", flush=True)
    print(f"load average at the end: {os.getloadavg()}")
    if options.drop:
        drop(options)


if __name__ == "__main__":
    main()
