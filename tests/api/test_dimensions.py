"""An experiment's `dimensions` (issue #23): defined on create and update, changeable while it
runs, served by the API, the audit log and the SDK config; bad ones are a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import EXPERIMENT, assert_problem, create, experiment_body, start
from tests.databases import sqlite_only

Headers = dict[str, str]
URL = f"/v1/experiments/{EXPERIMENT}"
TEMPLATE_DIMENSIONS = ["device", "source", "visitor_type", "market"]


def test_a_template_names_the_usual_dimensions_and_a_request_its_own(
    client: TestClient, admin_headers: Headers
) -> None:
    assert create(client, admin_headers)["dimensions"] == TEMPLATE_DIMENSIONS
    own = create(client, admin_headers, key="own", dimensions=["market", "plan"])
    assert own["dimensions"] == ["market", "plan"]
    none = create(client, admin_headers, key="none", dimensions=[])
    assert none["dimensions"] == []
    without_template = experiment_body("bare", metrics={"primary": "conversion_rate"})
    del without_template["template"]
    response = client.post("/v1/experiments", json=without_template, headers=admin_headers)
    assert response.status_code == 201, response.text
    assert response.json()["dimensions"] == []
    assert client.get(URL, headers=admin_headers).json()["dimensions"] == TEMPLATE_DIMENSIONS


def test_dimensions_change_while_running_and_are_audited_and_served(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    response = client.patch(URL, json={"dimensions": ["device", "plan"]}, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert client.get(URL, headers=admin_headers).json()["dimensions"] == ["device", "plan"]

    audit = client.get("/v1/audit", headers=admin_headers).json()["items"]
    assert audit[-1]["action"] == "updated"
    assert audit[-1]["changes"] == {
        "dimensions": {"before": TEMPLATE_DIMENSIONS, "after": ["device", "plan"]}
    }
    config = client.get("/v1/sdk/config", headers=sdk_headers).json()
    [served] = config["experiments"]
    assert served["dimensions"] == ["device", "plan"]


def test_an_archived_experiment_keeps_its_dimensions(
    client: TestClient, admin_headers: Headers
) -> None:
    create(client, admin_headers)
    start(client, admin_headers)
    client.post(f"{URL}/stop", json={}, headers=admin_headers).raise_for_status()
    stopped = client.patch(URL, json={"dimensions": ["market"]}, headers=admin_headers)
    assert stopped.status_code == 200, stopped.text
    client.post(f"{URL}/archive", headers=admin_headers).raise_for_status()
    archived = client.patch(URL, json={"dimensions": ["device"]}, headers=admin_headers)
    assert archived.status_code == 409


BAD_DIMENSIONS: list[tuple[Any, str]] = [
    (["a", "b", "c", "d", "e", "f"], "dimensions"),
    (["device", "device"], "dimensions[1]"),
    ([""], "dimensions[0]"),
    (["d" * 129], "dimensions[0]"),
    (["mob\u0000ile"], "dimensions[0]"),
    ([3], "dimensions[0]"),
    ("device", "dimensions"),
]


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize(("dimensions", "field"), BAD_DIMENSIONS)
def test_bad_dimensions_are_422_naming_the_field(
    client: TestClient, admin_headers: Headers, dimensions: Any, field: str
) -> None:
    body = experiment_body(dimensions=dimensions)
    assert_problem(client.post("/v1/experiments", json=body, headers=admin_headers), 422, field)
    create(client, admin_headers)
    patched = client.patch(URL, json={"dimensions": dimensions}, headers=admin_headers)
    assert_problem(patched, 422, field)


def test_a_lone_surrogate_in_a_dimension_is_422(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    body = b'{"dimensions": ["\\ud800"]}'
    headers = admin_headers | {"Content-Type": "application/json"}
    assert_problem(client.patch(URL, content=body, headers=headers), 422)


def test_dimensions_cannot_be_null(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    patched = client.patch(URL, json={"dimensions": None}, headers=admin_headers)
    assert_problem(patched, 422, "dimensions")
