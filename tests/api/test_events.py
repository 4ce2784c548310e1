"""POST /v1/events and GET /v1/events/summary without Redis (direct SQL, SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient

from experiments.events.summary import MISSING_AFTER, count_events
from tests.api.helpers import (
    EXPERIMENT,
    assert_problem,
    create,
    create_conversion_metric,
    equal_split_body,
    exposure,
    purchase,
    running_experiment,
    send,
    start,
)

Headers = dict[str, str]
Sender = Callable[[list[Any]], dict[str, Any]]


def summary(client: TestClient, admin_headers: Headers) -> dict[str, Any]:
    response = client.get("/v1/events/summary", headers=admin_headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.fixture
def send_to_running(client: TestClient, admin_headers: Headers, sdk_headers: Headers) -> Sender:
    """Starts the checkout experiment; sends a batch of events with the SDK key."""
    running_experiment(client, admin_headers)
    return partial(send, client, sdk_headers)


def test_valid_batch_is_stored_and_counted(
    client: TestClient, admin_headers: Headers, send_to_running: Sender
) -> None:
    answer = send_to_running(
        [exposure("a"), exposure("b", variant="multi-step"), purchase("c"), purchase()]
    )
    assert answer == {"accepted": 4, "duplicates": 0, "rejected": []}
    counts = summary(client, admin_headers)
    assert counts["exposures"] == [
        {"experiment": EXPERIMENT, "variant": "multi-step", "count": 1},
        {"experiment": EXPERIMENT, "variant": "one-page", "count": 1},
    ]
    assert counts["conversions"] == [{"name": "purchase", "count": 2, "value_sum": 1298.0}]
    assert counts["unused_event_names"] == []
    assert counts["backlog"] is None


def test_event_names_no_metric_reads_are_counted_and_listed(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    opened = {"name": "newsletter_opened", "value": None}  # a typo of newsletter_open
    send(client, sdk_headers, [purchase(), purchase(**opened), purchase(**opened)])
    counts = summary(client, admin_headers)
    assert counts["unused_event_names"] == [{"name": "newsletter_opened", "count": 2}]
    create_conversion_metric(
        client, admin_headers, "opened_rate", "Opened (custom)", "newsletter_opened"
    )
    assert summary(client, admin_headers)["unused_event_names"] == []


def test_bad_events_are_rejected_alone(
    client: TestClient, admin_headers: Headers, send_to_running: Sender
) -> None:
    answer = send_to_running(
        [
            exposure("good-1"),
            {"type": "exposure", "experiment": EXPERIMENT, "variant": "one-page"},
            purchase("bad-value", value="lots"),
            "not an object",
            purchase("good-2"),
        ],
    )
    assert answer["accepted"] == 2 and answer["duplicates"] == 0
    assert [item["index"] for item in answer["rejected"]] == [1, 2, 3]
    assert answer["rejected"][0]["errors"] == [{"field": "unit_id", "rule": "is required"}]
    assert answer["rejected"][1]["errors"] == [
        {"field": "value", "rule": "must be a finite number"}
    ]
    assert answer["rejected"][2]["errors"] == [{"field": "event", "rule": "must be an object"}]
    assert sum(row["count"] for row in summary(client, admin_headers)["conversions"]) == 1


def test_exposure_rules_follow_the_experiment_lifecycle(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers, key="draft-test")
    running_experiment(client, admin_headers)
    answer = send(
        client,
        sdk_headers,
        [
            exposure(experiment="draft-test"),
            exposure(experiment="no-such-test"),
            exposure(variant="three-step"),
        ],
    )
    rules = [item["errors"][0] for item in answer["rejected"]]
    assert rules == [
        {
            "field": "experiment",
            "rule": "is draft; exposures are accepted only while running or stopped",
        },
        {"field": "experiment", "rule": "must name a known experiment"},
        {"field": "variant", "rule": f"must be one of the variants of {EXPERIMENT}"},
    ]
    client.post(f"/v1/experiments/{EXPERIMENT}/stop", headers=admin_headers)
    time.sleep(1.1)  # the experiment cache lives one second
    assert send(client, sdk_headers, [exposure()])["accepted"] == 1  # late SDK delivery


def test_duplicates_within_and_across_batches(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    running_experiment(client, admin_headers)
    first = send(client, sdk_headers, [exposure("x"), exposure("x"), purchase("y")])
    assert (first["accepted"], first["duplicates"]) == (2, 1)
    second = send(client, sdk_headers, [exposure("x"), purchase("y"), purchase("z")])
    assert (second["accepted"], second["duplicates"]) == (1, 2)
    counts = summary(client, admin_headers)
    assert counts["exposures"][0]["count"] == 1
    assert counts["conversions"][0]["count"] == 2


def test_body_that_is_not_json_is_one_problem(client: TestClient, sdk_headers: Headers) -> None:
    response = client.post(
        "/v1/events",
        content=b'{"events": [',
        headers={**sdk_headers, "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 400)
    assert "not valid JSON" in problem["detail"]


def test_body_without_events_array_is_one_problem(client: TestClient, sdk_headers: Headers) -> None:
    assert_problem(client.post("/v1/events", json=[1], headers=sdk_headers), 422, "body")
    assert_problem(client.post("/v1/events", json={}, headers=sdk_headers), 422, "events")
    response = client.post("/v1/events", json={"events": {"a": 1}}, headers=sdk_headers)
    assert_problem(response, 422, "events")


def test_more_than_ten_thousand_events_is_413(client: TestClient, sdk_headers: Headers) -> None:
    events = [purchase(f"e{i}") for i in range(10_001)]
    response = client.post("/v1/events", json={"events": events}, headers=sdk_headers)
    problem = assert_problem(response, 413)
    assert "at most 10000 events" in problem["detail"]


def test_keys_are_required(client: TestClient, sdk_headers: Headers) -> None:
    assert client.post("/v1/events", json={"events": []}).status_code == 401
    assert client.get("/v1/events/summary", headers=sdk_headers).status_code == 403


def test_a_metric_whose_event_never_arrives_is_named_missing(
    client: TestClient,
    admin_headers: Headers,
    sdk_headers: Headers,
    openapi_document: dict[str, Any],
) -> None:
    cta = equal_split_body("cta-text", "CTA text", "cta", {"control": "Add", "buy": "Buy now"})
    assert client.post("/v1/experiments", json=cta, headers=admin_headers).status_code == 201
    start(client, admin_headers, "cta-text")
    send(client, sdk_headers, [exposure(experiment="cta-text", variant="buy"), purchase()])
    missing = summary(client, admin_headers)["missing_events"]
    # The cta template: cta_click_rate first, add_to_cart_rate and conversion_rate next.
    assert [(row["metric"], row["event"], row["last_seen"]) for row in missing] == [
        ("cta_click_rate", "cta_click", None),
        ("add_to_cart_rate", "add_to_cart", None),
    ]
    assert all(row["experiment"] == "cta-text" for row in missing)
    send(client, sdk_headers, [purchase(name="cta_click", value=None)])
    assert [row["event"] for row in summary(client, admin_headers)["missing_events"]] == [
        "add_to_cart"
    ]
    # A day later without a click, the click is missing again, with when it last arrived.
    tomorrow = datetime.now(UTC) + MISSING_AFTER + timedelta(minutes=1)
    later = count_events(client.app.state.engine, now=tomorrow).missing  # type: ignore[attr-defined]
    click = next(row for row in later if row["event"] == "cta_click")
    assert click["last_seen"] is not None and click["last_seen"] < tomorrow - MISSING_AFTER
    schema = openapi_document["components"]["schemas"]
    assert "missing_events" in schema["EventsSummaryOut"]["required"]


def test_an_experiment_fed_by_pasted_counts_expects_no_events(
    client: TestClient, admin_headers: Headers
) -> None:
    subjects = {"control": "Spring sale", "subject-b": "20 % off"}
    body = equal_split_body("spring", "Spring subject", "newsletter", subjects)
    body["design"] = {"population": 20_000, "test_share": 0.2, "attribution_hours": 72}
    assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 201
    start(client, admin_headers, "spring")
    assert [row["event"] for row in summary(client, admin_headers)["missing_events"]] != []
    pasted = {
        "variants": [
            {"key": "control", "sent": 2000, "opened": 500, "clicked": 60, "unsubscribed": 4},
            {"key": "subject-b", "sent": 2000, "opened": 540, "clicked": 70, "unsubscribed": 5},
        ]
    }
    url = "/v1/experiments/spring/counts"
    assert client.post(url, json=pasted, headers=admin_headers).status_code == 201
    assert summary(client, admin_headers)["missing_events"] == []
