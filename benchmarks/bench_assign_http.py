"""POST /v1/assign served by `vekst serve` as shipped (request log on) against a bare async
FastAPI endpoint taking the same body, against the same app with its request log off, and
against the same app with the assign route served without its hot path: once as a plain route
(routing stays, the endpoint is called as a Starlette endpoint) and once through FastAPI's own
request handler. The variants run the same factory, logging and uvicorn options as `vekst serve`.

Run: make bench-deps && .venv/bin/python -m benchmarks.bench_assign_http [--runs 5 --duration 5]
Needs wrk (`apt-get install wrk`). Prints the median requests/s of each and the ratios; each
server is one worker process, loaded in turn, the servers alternating within every run. Then
the three ways of serving the route are timed in this process through the ASGI interface: CPU
time per request, the best of the runs, which other processes on the machine barely disturb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute, request_response
from starlette.types import Message, Scope

from api.app import create_app_from_environment
from api.hot_path import HotPath
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


def _without_hot_path(app: FastAPI) -> FastAPI:
    hot_path: object = HotPath
    app.user_middleware = [m for m in app.user_middleware if m.cls is not hot_path]
    return app


def create_app_plain_route() -> FastAPI:
    """`vekst serve`'s app, its assign route served without the hot path as a plain Starlette
    route: routing stays, FastAPI's request handler (dependencies, response model) goes."""
    app = _without_hot_path(create_app_from_environment())
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.path == "/v1/assign":
            route.app = request_response(route.endpoint)
    return app


def create_app_fastapi_route() -> FastAPI:
    """`vekst serve`'s app, its assign route served without the hot path, by FastAPI."""
    return _without_hot_path(create_app_from_environment())


LABELS = {
    "bare": "bare async endpoint, same body",
    "shipped": "vekst serve (request log on)",
    "no log": "vekst serve, request log off",
    "plain route": "no hot path, plain route",
    "fastapi route": "no hot path, FastAPI route",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=2000, help="per in-process round")
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
        rates: dict[str, list[float]] = {name: [] for name in LABELS}
        log = Path(folder) / "requests.log"
        variant = "benchmarks.bench_assign_http:create_app_"
        with (
            uvicorn_server("benchmarks.bare_app:create_bare_app") as bare,
            vekst_serve(env, log) as shipped,
            vekst_serve({**env, "VEKST_REQUEST_LOG": "false"}, log) as quiet,
            uvicorn_server(variant + "plain_route", env, log) as plain,
            uvicorn_server(variant + "fastapi_route", env, log) as whole,
        ):
            servers = {
                "bare": bare,
                "shipped": shipped,
                "no log": quiet,
                "plain route": plain,
                "fastapi route": whole,
            }
            for _ in range(args.runs):
                for name, url in servers.items():
                    rates[name].append(
                        wrk_requests_per_second(url, LUA, args.duration, args.connections)
                    )
        logged = sum(1 for line in log.open() if '"route":"/v1/assign"' in line)
        cpu = cpu_per_request(env, log, args.runs, args.requests)
    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f}")
    print(f"runs: {args.runs} x {args.duration} s, {args.connections} connections, wrk 1 thread")
    for name, label in LABELS.items():
        rounded = [round(rate) for rate in rates[name]]
        print(f"{label + ':':<32} median {median(rates[name]):,.0f} req/s  {rounded}")
    print(f"request-log lines written for /v1/assign: {logged:,}")
    for name in LABELS:
        if name != "bare":
            print(f"ratio {name} / bare: {_median_ratio(rates[name], rates['bare']):.2f}")
    for name in ("plain route", "fastapi route"):
        ratio = _median_ratio(rates[name], rates["shipped"])
        print(f"ratio {name} / shipped (hot path): {ratio:.2f}")
    print("(medians of the per-run ratios; target for shipped / bare >= 0.80)")
    print(f"in one process, CPU per request, best of {args.runs} x {args.requests}:")
    for name, seconds in cpu.items():
        print(f"  {name + ':':<16} {seconds * 1e6:6.1f} us  ({seconds / cpu['shipped']:.2f})")


ROUTE_VARIANTS: dict[str, Callable[[], FastAPI]] = {
    "shipped": create_app_from_environment,
    "plain route": create_app_plain_route,
    "fastapi route": create_app_fastapi_route,
}


def cpu_per_request(env: dict[str, str], log: Path, runs: int, requests: int) -> dict[str, float]:
    """CPU seconds per assignment of each route variant, built from `env` (the best of `runs`
    rounds of `requests`, the variants alternating); the request log is written to `log`."""
    os.environ.update(env)
    apps = {name: factory() for name, factory in ROUTE_VARIANTS.items()}
    best = dict.fromkeys(apps, float("inf"))
    stderr = os.dup(2)
    with log.open("ab") as output:
        os.dup2(output.fileno(), 2)
        try:
            for _ in range(runs):
                for name, app in apps.items():
                    seconds = asyncio.run(_timed_assignments(app, requests))
                    best[name] = min(best[name], seconds / requests)
        finally:
            os.dup2(stderr, 2)
            os.close(stderr)
    return best


async def _timed_assignments(app: FastAPI, requests: int) -> float:
    assignment = {
        "unit_id": "visitor-1",
        "attributes": {"country": "NO"},
        "experiments": ["checkout-onepage"],
    }
    body = json.dumps(assignment).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {SDK_KEY}".encode()),
    ]
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async with app.router.lifespan_context(app):
        started = time.process_time()
        for _ in range(requests):
            scope: Scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "POST", "scheme": "http", "path": "/v1/assign",
                "raw_path": b"/v1/assign", "root_path": "", "query_string": b"",
                "headers": headers, "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000), "state": {},
            }  # fmt: skip
            await app(scope, receive, send)
        seconds = time.process_time() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"assign answered {sorted(set(statuses))}, not only 200")
    return seconds


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of the ratios run by run: a run's servers share its load."""
    return median([top / bottom for top, bottom in zip(numerators, denominators, strict=True)])


if __name__ == "__main__":
    main()
