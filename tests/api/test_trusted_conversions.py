"""Trusted conversions: the secret server key, the `source` of every stored event, and metrics
that count only server-sent events, so a purchase forged with the public sdk key moves nothing."""

from __future__ import annotations

import time

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select

from experiments.db import make_engine
from experiments.models.event import Conversion, Exposure
from tests.api.helpers import (
    EXPERIMENT,
    assert_problem,
    create,
    exposure,
    purchase,
    running_experiment,
    send,
    start,
)

Headers = dict[str, str]


def sources(database_url: str) -> dict[str, str]:
    """The stored `source` of every event, by event id."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        rows = [
            *connection.execute(select(Exposure.event_id, Exposure.source)),  # type: ignore[call-overload]
            *connection.execute(select(Conversion.event_id, Conversion.source)),  # type: ignore[call-overload]
        ]
    engine.dispose()
    return dict(rows)


def test_the_server_key_is_taken_wherever_the_sdk_key_is_but_the_beacon(
    client: TestClient, admin_headers: Headers, server_headers: Headers
) -> None:
    running_experiment(client, admin_headers)
    assert client.get("/v1/sdk/config", headers=server_headers).status_code == 200
    assign = {"unit_id": "visitor-1", "experiments": [EXPERIMENT]}
    assert client.post("/v1/assign", json=assign, headers=server_headers).status_code == 200
    assert send(client, server_headers, [purchase("s-1")])["accepted"] == 1
    sample_size = {"baseline_rate": 0.025, "mde_relative": 0.1}
    response = client.post("/v1/stats/sample-size", json=sample_size, headers=server_headers)
    assert response.status_code == 200
    # A beacon comes from a browser: a secret key has no business there.
    secret = server_headers["Authorization"].removeprefix("Bearer ")
    beacon = client.post(
        "/v1/events/beacon", content=orjson.dumps({"sdk_key": secret, "events": [purchase()]})
    )
    assert "scope sdk" in assert_problem(beacon, 403)["detail"]
    # Nor does it manage anything.
    assert_problem(client.get("/v1/experiments", headers=server_headers), 403)


def test_every_stored_event_records_the_kind_of_key_that_sent_it(
    client: TestClient,
    database_url: str,
    admin_headers: Headers,
    sdk_headers: Headers,
    server_headers: Headers,
) -> None:
    running_experiment(client, admin_headers)
    send(client, sdk_headers, [exposure("x-sdk", unit_id="a"), purchase("p-sdk", unit_id="a")])
    send(client, server_headers, [purchase("p-server", unit_id="b")])
    send(client, admin_headers, [exposure("x-admin", unit_id="c"), purchase("p-admin")])
    # A backend's assignment that records the exposure records who sent it, too.
    assign = {"unit_id": "d", "experiments": [EXPERIMENT], "expose": True}
    answer = client.post("/v1/assign", json=assign, headers=server_headers).json()
    assert answer["exposure"]["recorded"] == 1
    # A client cannot claim a source: it is not a field of the wire format.
    claimed = send(client, sdk_headers, [purchase("p-claimed", source="server")])
    assert claimed["rejected"][0]["errors"][0]["field"] == "source"
    stored = sources(database_url)
    assigned = [event_id for event_id in stored if event_id.startswith("assign-")]
    assert len(assigned) == 1
    assert stored == {
        "x-sdk": "sdk",
        "p-sdk": "sdk",
        "p-server": "server",
        "x-admin": "admin",
        "p-admin": "admin",
        assigned[0]: "server",
    }


def test_a_purchase_forged_with_the_public_key_moves_nothing_in_a_server_metric(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers, server_headers: Headers
) -> None:
    server_aov = {
        "key": "server_aov",
        "name": "Average order value (server)",
        "kind": "ratio",
        "numerator_event": "purchase",
        "numerator_aggregation": "sum",
        "denominator_event": "purchase",
        "sources": ["server"],
    }
    created = client.post("/v1/metrics", json=server_aov, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["sources"] == ["server"]
    selection = {"primary": "server_aov", "secondary": ["aov"]}
    create(client, admin_headers, metrics=selection)
    start(client, admin_headers)
    exposed = int(time.time() * 1000) - 600_000
    units = {f"v{index}": ("multi-step", "one-page")[index % 2] for index in range(8)}
    send(
        client,
        sdk_headers,
        [
            exposure(unit_id=unit, variant=variant, timestamp=exposed)
            for unit, variant in units.items()
        ],
    )
    orders = [
        purchase(unit_id=unit, value=500.0 + 10 * index, timestamp=exposed + 60_000)
        for index, unit in enumerate(units)
    ]
    assert send(client, server_headers, orders)["accepted"] == 8
    before = metric_values(client, admin_headers)
    # Anyone can read the sdk key out of the shop's pages and send this.
    forged = purchase(unit_id="v1", value=1e12, timestamp=exposed + 120_000)
    assert send(client, sdk_headers, [forged])["accepted"] == 1
    after = metric_values(client, admin_headers)
    assert after["server_aov"] == before["server_aov"]
    assert before["server_aov"] == {"multi-step": 530.0, "one-page": 540.0}
    # A metric of every source counts the forged order.
    assert after["aov"]["one-page"] > 1e11 > before["aov"]["one-page"]


def metric_values(client: TestClient, headers: Headers) -> dict[str, dict[str, float]]:
    """Each metric's value per variant on the results page of a look taken now."""
    taken = client.post(f"/v1/experiments/{EXPERIMENT}/snapshots", headers=headers)
    assert taken.status_code in (200, 201), taken.text
    response = client.get(f"/v1/experiments/{EXPERIMENT}/results", headers=headers)
    assert response.status_code == 200, response.text
    return {
        metric["metric"]: {variant["key"]: variant["value"] for variant in metric["variants"]}
        for metric in response.json()["metrics"]
    }
