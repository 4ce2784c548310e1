"""Lifecycle rules: each refusal is a 409 that says why and what to do instead."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import URL, assert_problem, create, experiment_body, start

Headers = dict[str, str]


def test_full_lifecycle(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    started = client.post(f"{URL}/start", headers=admin_headers).json()
    assert started["status"] == "running" and started["started_at"]
    stopped = client.post(f"{URL}/stop", json={"winner": "one-page"}, headers=admin_headers).json()
    assert stopped["status"] == "stopped" and stopped["winner"] == "one-page"
    archived = client.post(f"{URL}/archive", headers=admin_headers).json()
    assert archived["status"] == "archived"


def test_stop_without_body_has_no_winner(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    stopped = client.post(f"{URL}/stop", headers=admin_headers).json()
    assert stopped["status"] == "stopped" and stopped["winner"] is None


@pytest.mark.parametrize(
    ("started", "action", "why"),
    [
        (True, "start", "only a draft can start"),
        (False, "stop", "only a running experiment can stop"),
        (True, "archive", "stop it before archiving"),
    ],
)
def test_an_action_out_of_turn_is_refused(
    client: TestClient, admin_headers: Headers, started: bool, action: str, why: str
) -> None:
    create(client, admin_headers)
    if started:
        start(client, admin_headers)
    problem = assert_problem(client.post(f"{URL}/{action}", headers=admin_headers), 409)
    assert why in problem["detail"]


def test_winner_must_be_a_variant(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    response = client.post(f"{URL}/stop", json={"winner": "three-step"}, headers=admin_headers)
    assert_problem(response, 422, "winner")
    assert client.get(URL, headers=admin_headers).json()["status"] == "running"


def test_setup_is_frozen_after_start(client: TestClient, admin_headers: Headers) -> None:
    created = create(client, admin_headers)
    start(client, admin_headers)
    variants = created["variants"]
    variants[1]["weight"] = 3
    for change in ({"variants": variants}, {"unit_type": "user"}, {"layer": "checkout"}):
        problem = assert_problem(client.patch(URL, json=change, headers=admin_headers), 409)
        assert "stop it and create a new experiment" in problem["detail"]


def test_draft_setup_can_change(client: TestClient, admin_headers: Headers) -> None:
    created = create(client, admin_headers)
    variants = created["variants"]
    variants[1]["weight"] = 3
    response = client.patch(URL, json={"variants": variants}, headers=admin_headers)
    assert response.json()["variants"][1]["weight"] == 3


def test_traffic_only_grows_while_running(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers, traffic=0.5)
    start(client, admin_headers)
    problem = assert_problem(client.patch(URL, json={"traffic": 0.4}, headers=admin_headers), 409)
    assert "traffic may only grow" in problem["detail"]
    assert client.patch(URL, json={"traffic": 0.8}, headers=admin_headers).json()["traffic"] == 0.8


def test_archived_is_read_only(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    client.post(f"{URL}/archive", headers=admin_headers)
    assert_problem(client.patch(URL, json={"name": "x"}, headers=admin_headers), 409)
    assert_problem(client.post(f"{URL}/start", headers=admin_headers), 409)
    assert_problem(client.post(f"{URL}/archive", headers=admin_headers), 409)


def test_layer_capacity(client: TestClient, admin_headers: Headers) -> None:
    for key, traffic in (("cta-a", 0.6), ("cta-b", 0.3), ("cta-c", 0.2)):
        body = experiment_body(key=key, template="cta", layer="cta", traffic=traffic)
        assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 201
    start(client, admin_headers, "cta-a")
    start(client, admin_headers, "cta-b")
    problem = assert_problem(client.post("/v1/experiments/cta-c/start", headers=admin_headers), 409)
    assert "has only 0.1000 of its traffic free" in problem["detail"]
    problem = assert_problem(
        client.patch("/v1/experiments/cta-b", json={"traffic": 0.5}, headers=admin_headers), 409
    )
    assert "has only" in problem["detail"]
    client.post("/v1/experiments/cta-a/stop", headers=admin_headers)
    start(client, admin_headers, "cta-c")


def test_concurrent_starts_never_overfill_a_layer(
    client: TestClient, admin_headers: Headers
) -> None:
    keys = [f"cta-{index}" for index in range(4)]
    for key in keys:
        body = experiment_body(key=key, template="cta", layer="cta", traffic=0.4)
        assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 201
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(
            pool.map(
                lambda key: client.post(f"/v1/experiments/{key}/start", headers=admin_headers),
                keys,
            )
        )
    assert sorted(response.status_code for response in codes) == [200, 200, 409, 409]
    ranges = [
        bucket
        for key in keys
        for start, end in _layer_ranges(client, admin_headers, key)
        for bucket in range(start, end)
    ]
    assert len(ranges) == len(set(ranges)) == 8000


def _layer_ranges(client: TestClient, headers: Headers, key: str) -> list[list[int]]:
    config = client.get("/v1/sdk/config", headers=headers).json()
    for entry in config["experiments"]:
        if entry["key"] == key:
            ranges: list[list[int]] = entry["layer"]["ranges"]
            return ranges
    return []
