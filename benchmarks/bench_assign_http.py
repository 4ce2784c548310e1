"""POST /v1/assign on one uvicorn worker against a bare async FastAPI endpoint taking the same body.

Run: make bench-deps && .venv/bin/python -m benchmarks.bench_assign_http [--runs 5 --duration 5]
Needs wrk (`apt-get install wrk`). Prints the median requests/s of each and the ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile

from benchmarks.httpload import machine, median, uvicorn_server, wrk_requests_per_second
from experiments import definitions, lifecycle
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models import ExperimentCreate

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
        data = ExperimentCreate.model_validate(
            {
                "key": "checkout-onepage",
                "name": "One-page checkout",
                "template": "checkout",
                "variants": [
                    {"key": "multi-step", "name": "Multi", "weight": 1, "payload": {"l": "m"}},
                    {"key": "one-page", "name": "One", "weight": 1, "payload": {"l": "o"}},
                ],
            }
        )
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
        env = {"VEKST_DATABASE_URL": url, "VEKST_SDK_KEY": SDK_KEY, "VEKST_START_WORKER": "false"}
        os.environ.pop("VEKST_REDIS_URL", None)
        bare_rates: list[float] = []
        vekst_rates: list[float] = []
        with (
            uvicorn_server("benchmarks.bare_app:create_bare_app") as bare,
            uvicorn_server("api.app:create_app_from_environment", env) as vekst,
        ):
            for _ in range(args.runs):
                bare_rates.append(
                    wrk_requests_per_second(bare, LUA, args.duration, args.connections)
                )
                vekst_rates.append(
                    wrk_requests_per_second(vekst, LUA, args.duration, args.connections)
                )
    bare_median, vekst_median = median(bare_rates), median(vekst_rates)
    print(f"machine: {machine()}")
    print(f"runs: {args.runs} x {args.duration} s, {args.connections} connections, wrk 1 thread")
    print(f"bare async endpoint, same body: median {bare_median:,.0f} req/s  {bare_rates}")
    print(f"POST /v1/assign:                median {vekst_median:,.0f} req/s  {vekst_rates}")
    print(f"ratio: {vekst_median / bare_median:.2f} of the bare endpoint (target >= 0.80)")


if __name__ == "__main__":
    main()
