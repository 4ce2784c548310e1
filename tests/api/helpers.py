"""Request bodies, requests and checks shared by API tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from api.cli.demo import demo_experiment
from experiments.db import make_engine
from tests.experiments.results.simulation import RawEvents, simulate_shop

Headers = dict[str, str]
URL = "/v1/experiments/checkout-onepage"
EXPERIMENT = "checkout-onepage"


def experiment_body(key: str = "checkout-onepage", **changes: Any) -> dict[str, Any]:
    """The demo's one-page checkout experiment under `key`, with `changes` applied."""
    return {**demo_experiment(key), "name": "One-page checkout", **changes}


def equal_split_body(
    key: str, name: str, template: str, variants: dict[str, str]
) -> dict[str, Any]:
    """The create body of experiment `key`: a variant for each entry of `variants` (its key to
    its name), all weighted alike, the first one the control."""
    weighted = [{"key": variant, "name": label, "weight": 1} for variant, label in variants.items()]
    return {"key": key, "name": name, "template": template, "variants": weighted}


def create(client: TestClient, headers: Headers, **changes: Any) -> dict[str, Any]:
    response = client.post("/v1/experiments", json=experiment_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


def start(client: TestClient, headers: Headers, key: str = "checkout-onepage") -> None:
    response = client.post(f"/v1/experiments/{key}/start", headers=headers)
    assert response.status_code == 200, response.text


def running_experiment(client: TestClient, admin_headers: Headers, key: str = EXPERIMENT) -> None:
    create(client, admin_headers, key=key)
    response = client.post(f"/v1/experiments/{key}/start", headers=admin_headers)
    assert response.status_code == 200, response.text


def create_conversion_metric(
    client: TestClient, headers: Headers, key: str, name: str, event: str
) -> None:
    """Define the custom conversion metric `key`: the share of units that sent `event`."""
    metric = {"key": key, "name": name, "kind": "conversion", "numerator_event": event}
    response = client.post("/v1/metrics", json=metric, headers=headers)
    assert response.status_code == 201, response.text


def exposure(event_id: str | None = None, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "exposure",
        "unit_id": "visitor-1",
        "experiment": EXPERIMENT,
        "variant": "one-page",
        "timestamp": int(time.time() * 1000),
    }
    if event_id is not None:
        event["event_id"] = event_id
    event.update(changes)
    return event


def purchase(event_id: str | None = None, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "conversion", "unit_id": "visitor-1", "name": "purchase"}
    event["value"] = 649.0
    if event_id is not None:
        event["event_id"] = event_id
    event.update(changes)
    return event


def send(client: TestClient, headers: Headers, events: list[Any]) -> dict[str, Any]:
    response = client.post("/v1/events", json={"events": events}, headers=headers)
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def start_checkout(client: TestClient, headers: dict[str, str], **changes: Any) -> str:
    body = experiment_body(**changes)
    assert client.post("/v1/experiments", json=body, headers=headers).status_code == 201
    assert client.post(f"/v1/experiments/{body['key']}/start", headers=headers).status_code == 200
    return str(body["key"])


def assert_close(got: Any, want: Any) -> None:
    """Equal up to float rounding of sums taken in a different order; None stays None."""
    if isinstance(want, dict):
        assert set(got) == set(want)
        for name in want:
            assert_close(got[name], want[name])
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-7, abs=1e-12)
    else:
        assert got == want


def past_events(raw: RawEvents, now: datetime) -> RawEvents:
    """The simulation's events that have already happened (the API refuses future ones)."""
    return RawEvents(
        [row for row in raw.exposures if row["timestamp"] < now],
        [row for row in raw.conversions if row["timestamp"] < now],
    )


def load_past_week(database_url: str, key: str, units: int, seed: int) -> RawEvents:
    """Simulate six days of the shop for the running experiment `key` (a 20 % uplift), store the
    events that already happened straight into the database, and return all simulated ones."""
    now = datetime.now(UTC)
    raw = simulate_shop(
        units,
        0.2,
        seed=seed,
        experiment=key,
        start=now - timedelta(days=6),
        variants=("multi-step", "one-page"),
    )
    engine = make_engine(database_url)
    past_events(raw, now - timedelta(minutes=1)).load(engine)
    engine.dispose()
    return raw


def backdate_start(database_url: str, key: str, ago: timedelta) -> None:
    """Move experiment `key`'s start `ago` into the past, as if its traffic had run since."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE experiments SET started_at = :start WHERE key = :key"),
                {"start": (datetime.now(UTC) - ago).replace(tzinfo=None), "key": key},
            )
    finally:
        engine.dispose()


def send_raw_events(client: TestClient, headers: dict[str, str], raw: RawEvents) -> None:
    """Send the simulated events through `POST /v1/events`, exposures with their attributes."""
    events: list[dict[str, Any]] = [
        {
            "type": "exposure",
            "event_id": row["event_id"],
            "unit_id": row["unit_id"],
            "timestamp": row["timestamp"].isoformat(),
            "experiment": row["experiment"],
            "variant": row["variant"],
            **({"attributes": row["attributes"]} if row.get("attributes") else {}),
        }
        for row in raw.exposures
    ]
    events += [
        {
            "type": "conversion",
            "event_id": row["event_id"],
            "unit_id": row["unit_id"],
            "timestamp": row["timestamp"].isoformat(),
            "name": row["name"],
            **({"value": row["value"]} if row["value"] is not None else {}),
        }
        for row in raw.conversions
    ]
    for first in range(0, len(events), 2000):
        response = client.post(
            "/v1/events", json={"events": events[first : first + 2000]}, headers=headers
        )
        assert response.status_code == 202, response.text
        assert response.json()["rejected"] == [], response.text
    analyze_event_tables(client)


def analyze_event_tables(client: TestClient) -> None:
    """ANALYZE the event tables on PostgreSQL, as autovacuum soon would after a burst of events
    (and as `RawEvents.load` does): without statistics the planner runs a look's cap and
    quantile queries over 6,000 units about 25 times slower (110 s instead of 4 s)."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE exposures, conversions"))
