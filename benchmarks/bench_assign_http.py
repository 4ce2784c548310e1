"""POST /v1/assign served by `vekst serve` as shipped (request log on) against a bare async
FastAPI endpoint taking the same body, and against the same app with its request log off.

Run: make bench-deps && .venv/bin/python -m benchmarks.bench_assign_http [--runs 5 --duration 5]
Needs wrk (`apt-get install wrk`). Prints the median requests/s of each and the ratios; each
server is one worker process, loaded in turn.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from benchmarks.httpload import (
    MANY_VISITORS_ENV,
    checkout_experiment,
    machine,
    median,
    uvicorn_server,
    vekst_serve,
    wrk_requests_per_second,
)
from experiments import definitions, lifecycle
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models.experiment import ExperimentCreate

SDK_KEY = "bench-sdk-key-0123456789"
LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"unit_id":"visitor-' .. counter .. '","attributes":{"country":"NO"},'
    .. '"experiments":["checkout-onepage"]}'
  return wrk.format("POST", "/v1/assign", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer SDK_KEY"
  }, body)
end
""".replace("SDK_KEY", SDK_KEY)


def prepare_database(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        data = ExperimentCreate.model_validate(checkout_experiment("checkout-onepage"))
        definitions.create_experiment(session, data)
        lifecycle.start_experiment(session, "checkout-onepage")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        prepare_database(url)
        env = {
            "VEKST_DATABASE_URL": url,
            "VEKST_SDK_KEY": SDK_KEY,
            "VEKST_START_WORKER": "false",
            **MANY_VISITORS_ENV,
        }
        os.environ.pop("VEKST_REDIS_URL", None)
        rates: dict[str, list[float]] = {"bare": [], "shipped": [], "no log": []}
        log = Path(folder) / "requests.log"
        with (
            uvicorn_server("benchmarks.bare_app:create_bare_app") as bare,
            vekst_serve(env, log) as shipped,
            vekst_serve({**env, "VEKST_REQUEST_LOG": "false"}, log) as quiet,
        ):
            servers = {"bare": bare, "shipped": shipped, "no log": quiet}
            for _ in range(args.runs):
                for name, url in servers.items():
                    rates[name].append(
                        wrk_requests_per_second(url, LUA, args.duration, args.connections)
                    )
        logged = sum(1 for line in log.open() if '"route":"/v1/assign"' in line)
    medians = {name: median(values) for name, values in rates.items()}
    print(f"machine: {machine()}")
    print(f"runs: {args.runs} x {args.duration} s, {args.connections} connections, wrk 1 thread")
    labels = {
        "bare": "bare async endpoint, same body",
        "shipped": "vekst serve (request log on)",
        "no log": "vekst serve, request log off",
    }
    for name, label in labels.items():
        print(f"{label + ':':<32} median {medians[name]:,.0f} req/s  {rates[name]}")
    print(f"request-log lines written for /v1/assign: {logged:,}")
    ratio = medians["shipped"] / medians["bare"]
    print(
        f"ratio: {ratio:.2f} of the bare endpoint as shipped (target >= 0.80); "
        f"{medians['no log'] / medians['bare']:.2f} with the request log off"
    )


if __name__ == "__main__":
    main()
