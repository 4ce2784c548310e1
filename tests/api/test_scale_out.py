"""Two `vekst serve` processes on different ports and one `vekst worker`, sharing PostgreSQL (and
Redis): a change made through one server, or a key revoked on the command line, reaches the
other within 250 ms, and the events sent to both are stored once by the worker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from api.cli import build_cli
from experiments.models.event import Exposure
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.processes import vekst_process, vekst_servers
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.processes]

AGREE_WITHIN_SECONDS = 0.25
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module: a new one per request (`httpx.post`) costs a TLS context."""
    with httpx.Client(timeout=30) as client:
        yield client


def _variant(
    http: httpx.Client, url: str, key: str, headers: dict[str, str], unit: str = "u-1"
) -> str | None:
    answer = http.post(
        f"{url}/v1/assign", json={"unit_id": unit, "experiments": [key]}, headers=headers
    )
    answer.raise_for_status()
    variant: str | None = answer.json()["assignments"][key]["variant"]
    return variant


@pytest.mark.parametrize("with_redis", [False, True], ids=["postgres-only", "postgres+redis"])
def test_two_servers_and_a_worker_agree_within_a_quarter_second(
    postgres_url: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    with_redis: bool,
    http: httpx.Client,
) -> None:
    settings = {
        "VEKST_DATABASE_URL": postgres_url,
        "VEKST_ADMIN_KEY": ADMIN_KEY,
        "VEKST_SDK_KEY": SDK_KEY,
        # Long caches: only the change watcher can make the servers agree this fast.
        "VEKST_KEY_CACHE_SECONDS": "60",
        "VEKST_LOG_FORMAT": "human",
    }
    if with_redis:
        settings |= {
            "VEKST_REDIS_URL": request.getfixturevalue("redis_url"),
            "VEKST_EVENT_STREAM_PREFIX": f"{{vekst-test-{uuid.uuid4().hex[:10]}}}",
            "VEKST_START_WORKER": "false",
        }
    with (
        vekst_process(["worker"], settings, tmp_path) if with_redis else _no_worker() as _worker,
        vekst_servers(settings, tmp_path, 2) as (first, second),
    ):
        sdk = {"Authorization": f"Bearer {SDK_KEY}"}
        http.post(f"{first.url}/v1/experiments", json=experiment_body("scale"), headers=ADMIN)
        http.post(f"{first.url}/v1/experiments/scale/start", headers=ADMIN).raise_for_status()
        units = [f"u-{i}" for i in range(40)]
        served = {unit: _variant(http, second.url, "scale", sdk, unit) for unit in units}
        assert set(served.values()) == {"multi-step", "one-page"}
        # Watch a unit the winner changes: one already in "one-page" would show no lag at all.
        watched = next(unit for unit, variant in served.items() if variant == "multi-step")

        # A winner shipped through the first server is served by the second at once.
        stopped = http.post(
            f"{first.url}/v1/experiments/scale/stop", json={"winner": "one-page"}, headers=ADMIN
        )
        stopped.raise_for_status()
        lag = wait_until(
            lambda: _variant(http, second.url, "scale", sdk, watched) == "one-page", every=0.005
        )
        assert lag < AGREE_WITHIN_SECONDS
        assert {_variant(http, second.url, "scale", sdk, unit) for unit in units} == {"one-page"}

        # A key revoked on the command line stops working on both servers.
        # The command's own code in this process (a `vekst` process would add only its start).
        cli = CliRunner(env=settings)
        created = cli.invoke(build_cli(), ["keys", "create", "--scope", "sdk"])
        assert created.exit_code == 0, created.output
        secret = created.stdout.strip().splitlines()[-1]
        key_id = created.stdout.split(",")[0].removeprefix("id ")
        stored_key = {"Authorization": f"Bearer {secret}"}
        for server in (first, second):  # now cached by both
            assert _variant(http, server.url, "scale", stored_key) == "one-page"
        revoked = cli.invoke(build_cli(), ["keys", "revoke", key_id])
        assert revoked.exit_code == 0, revoked.output
        for server in (first, second):

            def refused(url: str = server.url) -> bool:
                answer = http.post(f"{url}/v1/assign", json={"unit_id": "u"}, headers=stored_key)
                return answer.status_code == 401

            lag = wait_until(refused, every=0.005)
            assert lag < AGREE_WITHIN_SECONDS

        # Exposures sent to both servers are stored once (by the worker when Redis buffers).
        http.post(f"{first.url}/v1/experiments", json=experiment_body("scale-2"), headers=ADMIN)
        http.post(f"{second.url}/v1/experiments/scale-2/start", headers=ADMIN).raise_for_status()
        for server in (first, second, first):
            answer = http.post(
                f"{server.url}/v1/assign",
                json={"unit_id": "buyer", "experiments": ["scale-2"], "expose": True},
                headers=sdk,
            )
            assert answer.json()["exposure"]["recorded"] == 1
        engine = create_engine(postgres_url)
        try:
            count = (
                select(func.count())
                .select_from(Exposure)
                .where(
                    Exposure.experiment == "scale-2"  # type: ignore[arg-type]
                )
            )

            def stored() -> int:
                with engine.connect() as connection:
                    return int(connection.execute(count).scalar_one())

            wait_until(lambda: stored() == 1, 10)
            time.sleep(0.3)
            assert stored() == 1
        finally:
            engine.dispose()
    assert "Traceback" not in first.log + second.log


class _no_worker:  # noqa: N801 - reads as the `vekst_process` it stands in for
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None
