"""Read your own writes: a client that acts on an answer at once never finds the write missing.

A real server (two uvicorn worker processes) on SQLite and PostgreSQL, a second client
keeping it busy with event batches, and rounds of create-then-start, start-then-assign,
stop-then-archive and create-then-patch, each request on a new connection so that two workers
share the work. And a commit that fails is an error response, never a success.

`VEKST_TEST_ROUNDS` sets the rounds (default 5; the soak this test was written as is
`VEKST_TEST_ROUNDS=200`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from api.app import create_app
from experiments.settings import Settings
from tests.api.helpers import experiment_body
from tests.conftest import ADMIN_KEY, SDK_KEY
from tests.live_server import running_api

ROUNDS = int(os.environ.get("VEKST_TEST_ROUNDS", "5"))
NEW_CONNECTION_EACH_TIME = httpx.Limits(max_keepalive_connections=0)


def client(base: str, key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.Client(base_url=base, headers=headers, limits=NEW_CONNECTION_EACH_TIME, timeout=30)


@contextmanager
def busy_with_events(base: str) -> Iterator[list[int]]:
    """Post batches of 50 purchases until the block ends; yields the list of statuses."""
    statuses: list[int] = []
    stop = threading.Event()

    def send() -> None:
        with client(base, SDK_KEY) as sdk:
            batch = 0
            while not stop.is_set():
                events = [
                    {
                        "event_id": f"busy-{batch}-{i}",
                        "type": "conversion",
                        "unit_id": f"u{i}",
                        "name": "purchase",
                        "value": 649.0,
                    }
                    for i in range(50)
                ]
                statuses.append(sdk.post("/v1/events", json={"events": events}).status_code)
                batch += 1

    sender = threading.Thread(target=send)
    sender.start()
    try:
        yield statuses
    finally:
        stop.set()
        sender.join(timeout=30)


def expect(response: httpx.Response, status: int, what: str, failures: list[str]) -> Any:
    if response.status_code != status:
        failures.append(f"{what}: {response.status_code} {response.text[:200]}")
        return None
    return response.json()


def one_round(admin: httpx.Client, sdk: httpx.Client, index: int, failures: list[str]) -> None:
    key = f"ryw-{index}"
    expect(admin.post("/v1/experiments", json=experiment_body(key)), 201, "create", failures)
    expect(admin.post(f"/v1/experiments/{key}/start"), 200, f"start {key}", failures)
    body = {"unit_id": f"visitor-{index}", "experiments": [key]}
    assigned = expect(sdk.post("/v1/assign", json=body), 200, f"assign {key}", failures)
    if assigned is not None and not assigned["assignments"][key]["in_experiment"]:
        failures.append(f"assign {key}: the started experiment was not served")
    # Stop and archive (themselves a write acted on at once) so the served config stays small.
    expect(admin.post(f"/v1/experiments/{key}/stop"), 200, f"stop {key}", failures)
    expect(admin.post(f"/v1/experiments/{key}/archive"), 200, f"archive {key}", failures)

    draft = f"ryw-draft-{index}"
    expect(admin.post("/v1/experiments", json=experiment_body(draft)), 201, "create", failures)
    patched = expect(
        admin.patch(f"/v1/experiments/{draft}", json={"name": f"Renamed {index}"}),
        200,
        f"patch {draft}",
        failures,
    )
    if patched is not None and patched["name"] != f"Renamed {index}":
        failures.append(f"patch {draft}: answered with the old name")


@pytest.mark.processes
def test_every_write_is_visible_to_the_next_request(database_url: str) -> None:
    """5 rounds (`VEKST_TEST_ROUNDS`) prove what 200 did: every round repeats the same four
    write-then-read pairs, so an answer sent before its commit, or a write a second worker
    cannot see, fails in the first round, not the hundredth. Shown with `get_session` changed to
    answer first and commit from a thread 50 ms later: 3 rounds failed at the first start
    (`start ryw-0: 404`), 14 or 15 pairs in all, on both databases, twice each. Changed to
    commit from a thread at once (a race of well under a millisecond), it passed 5 rounds and
    25 alike: more rounds add nothing the first round does not show. The one miss that needs the
    two workers to interleave just so (an assign answered from a config cached before a start
    made through the other worker) was never reliably caught by rounds: with `cache.reload`
    removed from api/routes/assign.py, 200 rounds on two workers passed. It is proven at once,
    in one process, by `test_an_experiment_started_elsewhere_is_served_at_once` below.

    Two workers only (a one-worker run was also made, for 5 s of CPU per database): each
    request comes on a new connection that either worker may accept, so the read lands on
    the worker that made the write as well as on the other one (and on the same one every
    time when the kernel hands a burst to one worker), which is all a one-worker server
    could show: an answer sent before its commit fails here as it did there."""
    failures: list[str] = []
    with (
        # The background sender stands for many visitors from one address: no per-client budget.
        running_api(database_url, workers=2, VEKST_CLIENT_EVENTS_RATE_PER_SECOND="0") as base,
        busy_with_events(base) as event_statuses,
        client(base, ADMIN_KEY) as admin,
        client(base, SDK_KEY) as sdk,
    ):
        for index in range(ROUNDS):
            one_round(admin, sdk, index, failures)
    assert failures == []
    assert event_statuses, "the event client never got an answer: the server was not busy"
    assert set(event_statuses) == {202}


def test_an_experiment_started_elsewhere_is_served_at_once(settings: Settings) -> None:
    """Two apps on one database stand for two worker processes: an experiment started through
    one is served by the other at once, though the other cached its config a moment before
    and hears of changes only every 5 s here (without `cache.reload` it answers "not in the
    experiment" for up to a second)."""
    slow_to_hear = settings.model_copy(update={"config_poll_seconds": 5.0})
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    sdk = {"Authorization": f"Bearer {SDK_KEY}"}
    with (
        TestClient(create_app(slow_to_hear)) as first,
        TestClient(create_app(slow_to_hear)) as second,
    ):
        assert second.post("/v1/assign", json={"unit_id": "u"}, headers=sdk).status_code == 200
        assert first.post("/v1/experiments", json=experiment_body("late"), headers=admin).is_success
        assert first.post("/v1/experiments/late/start", headers=admin).is_success
        body = {"unit_id": "u", "experiments": ["late"]}
        answer = second.post("/v1/assign", json=body, headers=sdk).json()
    assert answer["assignments"]["late"]["in_experiment"]


def test_a_failed_commit_is_an_error_and_stores_nothing(
    client: TestClient, admin_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    with monkeypatch.context() as patched:
        patched.setattr(Session, "commit", refuse)
        response = client.post("/v1/experiments", json=experiment_body(), headers=admin_headers)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "nothing was changed" in response.json()["detail"]
    missing = client.get("/v1/experiments/checkout-onepage", headers=admin_headers)
    assert missing.status_code == 404
    assert client.get("/v1/audit", headers=admin_headers).json()["items"] == []
