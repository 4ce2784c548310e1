"""Golden output of the results pipeline: what a refactor must leave byte-identical.

On the benchmark data (`bench_results.generate`, a fixed seed) in a fresh SQLite file, the
script takes the looks of a checkout experiment at fixed moments (the 30-day backfill, then a
new look, then a stop with its final look) and writes what users read of them: the results
API's JSON and its timeseries, the detail and list pages' HTML, the CLI's text, and
`stats.analyze` on a fixed set of inputs. Values that change with the
request or the day (the CSRF token, creation times, "304 days ago") are masked.

    .venv/bin/python -m benchmarks.golden_output --write /tmp/golden-before
    # ... change the code ...
    .venv/bin/python -m benchmarks.golden_output --check /tmp/golden-before

`--check` prints a unified diff of each file that differs and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from rich.console import Console

from api.app import create_app
from api.cli.results import render_results
from benchmarks.bench_results import START, create_experiment, generate, load
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.results.page import ResultsPage
from experiments.results.snapshots import take_snapshot
from experiments.settings import load_settings
from stats import analyze
from tests.accounts import log_in

ADMIN_KEY = "golden-admin-key-0123456789"
END = START + timedelta(days=30)
UNITS = 4000
_MASKS = (
    (re.compile(r'name="(csrf|csrf_token)" value="[^"]*"'), r'name="\1" value="…"'),
    (re.compile(r'"(created_at|updated_at)": "[^"]*"'), r'"\1": "…"'),
    (re.compile(r"[\d,]+ (minute|hour|day|week|month|year)s? ago"), "… ago"),
)

_ANALYSES: tuple[tuple[str, list[dict[str, Any]], dict[str, Any]], ...] = (
    (
        "proportion",
        [{"key": "a", "n": 1000, "conversions": 31}, {"key": "b", "n": 1010, "conversions": 45}],
        {},
    ),
    (
        "proportion",
        [
            {"key": "a", "n": 20000, "conversions": 21},
            {"key": "b", "n": 20100, "conversions": 30},
            {"key": "c", "n": 19950, "conversions": 12},
        ],
        {"planned_units_per_variant": 40000},
    ),
    (
        "mean",
        [
            {"key": "a", "n": 400, "sum": 52000.0, "sum_squares": 9.1e6},
            {"key": "b", "n": 410, "sum": 55100.0, "sum_squares": 9.4e6},
        ],
        {"alternative": "greater"},
    ),
)


def _masked(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def _json(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def produce() -> dict[str, str]:
    """Every golden file's name and text, computed afresh."""
    outputs: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'golden.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            exposures, conversions = generate(UNITS)
            load(engine, exposures, conversions)
            create_experiment(engine)
            with session_scope(engine) as session:
                take_snapshot(session, "bench", END, on_new_look=None)  # 30 backfilled looks
            with session_scope(engine) as session:
                take_snapshot(session, "bench", END + timedelta(hours=6), on_new_look=None)
        finally:
            engine.dispose()
        settings = load_settings(
            database_url=url,
            admin_key=ADMIN_KEY,
            start_scheduler=False,
            snapshot_interval_minutes=525_600_00,
        )
        with TestClient(create_app(settings)) as client:
            log_in(client)  # an admin account, made in the benchmark's database
            api = TestClient(client.app, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            fetch: Callable[[TestClient, str], str] = lambda c, p: _masked(_ok(c.get(p)))  # noqa: E731
            page = api.get("/v1/experiments/bench/results").json()
            outputs["results.json"] = _json(page)
            for metric in ("conversion_rate", "revenue_per_visitor"):
                series = api.get(
                    "/v1/experiments/bench/results/timeseries", params={"metric": metric}
                )
                outputs[f"timeseries-{metric}.json"] = _json(_ok_json(series))
            outputs["experiments.json"] = _masked(_json(_ok_json(api.get("/v1/experiments"))))
            outputs["detail.html"] = fetch(client, "/experiments/bench")
            outputs["list.html"] = fetch(client, "/")
            console = Console(width=140, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
            render_results(ResultsPage.model_validate(page), console)
            outputs["cli.txt"] = console.export_text()
    for index, (kind, variants, options) in enumerate(_ANALYSES):
        outputs[f"analyze-{index}.json"] = _json(analyze(kind, variants, **options).to_dict())
    return outputs


def _ok(response: Any) -> str:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:300]}")
    return str(response.text)


def _ok_json(response: Any) -> Any:
    _ok(response)
    return response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, help="folder to write the golden files to")
    mode.add_argument("--check", type=Path, help="folder of golden files to compare with")
    options = parser.parse_args()
    outputs = produce()
    if options.write:
        options.write.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.items():
            (options.write / name).write_text(text, encoding="utf-8")
        print(f"wrote {len(outputs)} files")
        return
    differing = 0
    for name, text in sorted(outputs.items()):
        golden = (options.check / name).read_text(encoding="utf-8")
        if golden != text:
            differing += 1
            sys.stdout.writelines(
                difflib.unified_diff(
                    golden.splitlines(keepends=True), text.splitlines(keepends=True), name, name
                )
            )
    print(f"{len(outputs) - differing} of {len(outputs)} files identical")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
