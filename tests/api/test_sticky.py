"""Sticky experiments on the server: the fields, the reshuffle, the SDK config, /v1/assign."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import build_cli
from experiments.assignment import EvaluatorCache
from experiments.settings import Settings
from tests.api.helpers import URL, assert_problem, create
from tests.api.test_holdouts import create_holdout
from tests.databases import sqlite_only
from vekst_sdk.spec import holdout_hash

Headers = dict[str, str]


def _config_entry(client: TestClient, headers: Headers) -> dict[str, Any]:
    config = client.get("/v1/sdk/config", headers=headers).json()
    entry: dict[str, Any] = config["experiments"][0]
    return entry


def test_sticky_fields_are_stored_shown_and_served(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    created = create(client, admin_headers)
    assert (created["sticky"], created["sticky_version"]) == (False, 1)
    client.post(f"{URL}/start", headers=admin_headers)
    plain = client.get("/v1/sdk/config", headers=sdk_headers)
    assert "sticky_version" not in _config_entry(client, sdk_headers)
    patched = client.patch(URL, json={"sticky": True}, headers=admin_headers)
    assert patched.status_code == 200, patched.text
    assert client.get(URL, headers=admin_headers).json()["sticky"] is True
    assert _config_entry(client, sdk_headers)["sticky_version"] == 1
    assert (
        client.get("/v1/sdk/config", headers=sdk_headers).headers["ETag"] != plain.headers["ETag"]
    )


@sqlite_only  # the patch is refused before anything is stored
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sticky": "yes"}, "sticky"),
        ({"sticky": 1}, "sticky"),
        ({"sticky_version": 0}, "sticky_version"),
        ({"sticky_version": 2**31}, "sticky_version"),
        ({"sticky_version": 10**40}, "sticky_version"),
        ({"sticky_version": 1.5}, "sticky_version"),
        ({"sticky_version": "2"}, "sticky_version"),
        ({"sticky": None}, "sticky"),
    ],
)
def test_bad_sticky_fields_are_422_naming_the_field(
    client: TestClient, admin_headers: Headers, body: dict[str, Any], field: str
) -> None:
    create(client, admin_headers)
    response = client.patch(URL, json=body, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_reshuffle_bumps_the_version_once_sticky_and_is_audited(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers)
    refused = client.post(f"{URL}/reshuffle", headers=admin_headers)
    assert_problem(refused, 409)
    assert "not sticky" in refused.json()["detail"]
    assert client.post(f"{URL}/reshuffle", headers=sdk_headers).status_code == 403
    assert client.post("/v1/experiments/nope/reshuffle", headers=admin_headers).status_code == 404
    client.patch(URL, json={"sticky": True}, headers=admin_headers)
    client.post(f"{URL}/start", headers=admin_headers)
    reshuffled = client.post(f"{URL}/reshuffle", headers=admin_headers)
    assert reshuffled.status_code == 200
    assert reshuffled.json()["sticky_version"] == 2
    assert _config_entry(client, sdk_headers)["sticky_version"] == 2
    history = client.get(f"{URL}/history", headers=admin_headers).json()
    entry = history[-1]
    assert entry["action"] == "reshuffled"
    assert entry["changes"]["sticky_version"] == {"before": 1, "after": 2}
    lowered = client.patch(URL, json={"sticky_version": 1}, headers=admin_headers)
    assert_problem(lowered, 409)
    assert "sticky_version" in lowered.json()["detail"]


def test_assign_keeps_a_units_variant_until_a_reshuffle(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers, sticky=True)
    client.post(f"{URL}/start", headers=admin_headers)

    def assign(unit_id: str) -> dict[str, Any]:
        body = {"unit_id": unit_id, "experiments": ["checkout-onepage"]}
        answer = client.post("/v1/assign", json=body, headers=sdk_headers).json()
        result: dict[str, Any] = answer["assignments"]["checkout-onepage"]
        return result

    first = assign("visitor-1")["variant"]
    other = next(v for v in ("multi-step", "one-page") if v != first)
    cache: EvaluatorCache = client.app.state.evaluator_cache  # type: ignore[attr-defined]
    # What a unit kept under an earlier split (weights have since moved) is what it gets.
    cache.store.put("checkout-onepage", 1, "visitor-1", other)
    kept = assign("visitor-1")
    assert (kept["variant"], kept["in_experiment"]) == (other, True)
    client.post(f"{URL}/reshuffle", headers=admin_headers)
    assert assign("visitor-1")["variant"] == first


def test_the_cli_reshuffles(
    client: TestClient, admin_headers: Headers, cli_settings: Settings
) -> None:
    create(client, admin_headers)
    runner = CliRunner()
    refused = runner.invoke(build_cli(), ["experiments", "reshuffle", "checkout-onepage"])
    assert refused.exit_code == 1 and "not sticky" in refused.output
    client.patch(URL, json={"sticky": True}, headers=admin_headers)
    done = runner.invoke(build_cli(), ["experiments", "reshuffle", "checkout-onepage"])
    assert done.exit_code == 0, done.output
    assert "sticky_version is now 2" in done.output
    listed = runner.invoke(build_cli(), ["experiments"])
    assert listed.exit_code == 0 and "checkout-onepage" in listed.output


def test_assign_serves_a_holdout_and_records_its_exposures(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create_holdout(client, admin_headers)
    create(client, admin_headers)
    client.post(f"{URL}/start", headers=admin_headers)
    holdout = client.get("/v1/sdk/config", headers=sdk_headers).json()["holdouts"][0]
    threshold = int(holdout["share"] * 2**32)
    held = next(
        f"visitor-{n}"
        for n in range(100_000)
        if holdout_hash(holdout["salt"], f"visitor-{n}") < threshold
    )
    body = {"unit_id": held, "experiments": ["checkout-onepage"], "expose": True}
    answer = client.post("/v1/assign", json=body, headers=sdk_headers).json()
    got = answer["assignments"]["checkout-onepage"]
    assert (got["variant"], got["in_experiment"]) == ("multi-step", False)
    assert answer["exposure"] == {"recorded": 1, "not_recorded": []}
