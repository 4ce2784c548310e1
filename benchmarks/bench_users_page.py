"""The accounts pages' server time: `GET /users` (20 users, 5 open invitations, as an admin:
every row with its forms), `GET /account`, and a whole login (`POST /login`: the argon2id check
and a new session), through the app (TestClient), medians of `--runs` each, alternating.

    .venv/bin/python -m benchmarks.bench_users_page --runs 20
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from experiments import invitations
from experiments.audit import COMMAND_LINE
from experiments.db import make_engine, session_scope
from experiments.migrate import upgrade
from experiments.models.user import UserRole
from experiments.settings import load_settings
from tests.accounts import PASSWORD, add_user, email_of, form_token, log_in

USERS = 20
INVITATIONS = 5


def timed_ms(client: TestClient, method: str, path: str, code: int, **options: object) -> float:
    began = time.perf_counter()
    response = client.request(method, path, follow_redirects=False, **options)  # type: ignore[arg-type]
    elapsed = 1000 * (time.perf_counter() - began)
    if response.status_code != code:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
    return elapsed


def measure(url: str, runs: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    try:
        for number in range(USERS - 1):
            add_user(engine, "editor", f"person{number}@shop.example")
        with session_scope(engine) as session:
            for number in range(INVITATIONS):
                invitations.invite(
                    session, f"guest{number}@shop.example", UserRole.VIEWER, COMMAND_LINE
                )
    finally:
        engine.dispose()
    settings = load_settings(database_url=url, start_scheduler=False)
    times: dict[str, list[float]] = {"users": [], "account": [], "login": []}
    with TestClient(create_app(settings)) as admin, TestClient(admin.app) as visitor:
        log_in(admin)
        timed_ms(admin, "GET", "/users", 200)  # warm up once, as a server would be
        for _ in range(runs):
            times["users"].append(timed_ms(admin, "GET", "/users", 200))
            times["account"].append(timed_ms(admin, "GET", "/account", 200))
            form = {"email": email_of("admin"), "password": PASSWORD}
            form["csrf"] = form_token(visitor)
            times["login"].append(timed_ms(visitor, "POST", "/login", 303, data=form))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        figures = measure(f"sqlite:///{Path(folder) / 'bench.db'}", options.runs)
    print("GET /users ms  GET /account ms  POST /login ms")
    print(f"{figures['users']:>13.1f} {figures['account']:>16.1f} {figures['login']:>15.1f}")


if __name__ == "__main__":
    main()
