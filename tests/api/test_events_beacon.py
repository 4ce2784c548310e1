"""POST /v1/events/beacon: events from navigator.sendBeacon, with the sdk key in the body."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, exposure, purchase, running_experiment
from tests.conftest import ADMIN_KEY, SDK_KEY

Headers = dict[str, str]
TEXT = {"Content-Type": "text/plain;charset=UTF-8"}  # what sendBeacon sends for a string


def beacon(client: TestClient, document: Any) -> Any:
    return client.post("/v1/events/beacon", content=orjson.dumps(document), headers=TEXT)


def test_beacon_events_are_stored_like_posted_ones(
    client: TestClient, admin_headers: Headers
) -> None:
    running_experiment(client, admin_headers)
    events = [exposure("b-1"), purchase("b-2"), exposure("b-1"), {"type": "nope"}]
    response = beacon(client, {"sdk_key": SDK_KEY, "events": events})
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"]) == (2, 1)
    assert [row["index"] for row in answer["rejected"]] == [3]
    again = beacon(client, {"sdk_key": SDK_KEY, "events": events[:2]})  # a retried beacon
    assert again.json()["accepted"] + again.json()["duplicates"] == 2
    summary = client.get("/v1/events/summary", headers=admin_headers).json()
    assert [row["count"] for row in summary["exposures"]] == [1]
    assert [(row["name"], row["count"]) for row in summary["conversions"]] == [("purchase", 1)]


@pytest.mark.parametrize(
    ("document", "status"),
    [
        ({"events": []}, 401),
        ({"sdk_key": "", "events": []}, 401),
        ({"sdk_key": 42, "events": []}, 401),
        ({"sdk_key": "not-a-key", "events": []}, 401),
        ({"sdk_key": ADMIN_KEY, "events": []}, 403),  # a page must never hold an admin key
    ],
)
def test_beacon_needs_an_sdk_key_in_its_body(
    client: TestClient, document: dict[str, Any], status: int
) -> None:
    assert_problem(beacon(client, document), status)


def test_malformed_beacons_are_one_problem_each(client: TestClient) -> None:
    not_json = client.post("/v1/events/beacon", content=b"{nope", headers=TEXT)
    assert "not valid JSON" in assert_problem(not_json, 400)["detail"]
    assert_problem(beacon(client, [1, 2]), 422, "body")
    extra = beacon(client, {"sdk_key": SDK_KEY, "events": [], "id": 3})
    assert_problem(extra, 422, "id")
    assert_problem(beacon(client, {"sdk_key": SDK_KEY}), 422, "events")


def test_a_beacon_above_64_kib_is_413(client: TestClient) -> None:
    document = {"sdk_key": SDK_KEY, "events": [purchase(f"b-{i}") for i in range(2000)]}
    body = orjson.dumps(document)
    assert len(body) > 64 * 1024
    problem = assert_problem(beacon(client, document), 413)
    assert problem["detail"] == "the request body of /v1/events/beacon must be at most 65536 bytes"
    sdk = {"Authorization": f"Bearer {SDK_KEY}"}
    sent = client.post("/v1/events", json={"events": document["events"]}, headers=sdk)
    assert sent.status_code == 202, sent.text  # the same events may take the intake's way
