"""POST /v1/assign: agrees with the SDK on every shared test vector; bad input is a 422."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from experiments.db import make_engine, session_scope
from experiments.models.experiment import Design, Experiment, MetricSelection
from tests.api.helpers import assert_problem, create
from tests.databases import sqlite_only
from tests.sdk.vectors import load_testvectors
from vekst_sdk.spec import override_digest

Headers = dict[str, str]
# (The sticky and holdout cases need a prior store or a holdout: tests/api/test_sticky.py.)
CASES = [
    case
    for case in load_testvectors()["cases"]
    if not case["client_overrides"] and "sticky_store" not in case and "holdouts" not in case
]
UNIT_IDS = {case["unit_id"] for case in CASES}


def post_json(client: TestClient, body: dict[str, Any], headers: Headers) -> Any:
    """POST with Python's own JSON encoder, which escapes lone surrogates and writes NaN."""
    return client.post(
        "/v1/assign",
        content=json.dumps(body).encode(),
        headers={**headers, "content-type": "application/json"},
    )


def layer_free_groups(cases: list[dict[str, Any]]) -> list[list[int]]:
    """Split case indexes so no group holds two experiments of one layer (one config may not)."""
    groups: list[tuple[set[str], list[int]]] = []
    for index, case in enumerate(cases):
        layer = case["experiment"]["layer"]
        name = layer["key"] if layer else None
        group = next((g for g in groups if name is None or name not in g[0]), None)
        if group is None:
            group = (set(), [])
            groups.append(group)
        if name is not None:
            group[0].add(name)
        group[1].append(index)
    return [indexes for _, indexes in groups]


def clear_overrides(definition: dict[str, Any]) -> dict[str, str]:
    """The unit ids behind a vector's override digests (the server stores ids, not digests),
    found by trying every unit id of the vectors, as anyone can try guessed ids."""
    found = {
        unit_id: variant
        for digest, variant in definition["override_hashes"].items()
        for unit_id in UNIT_IDS
        if unit_id.isascii() and override_digest(definition["salt"], unit_id) == digest  # qa-anna
    }
    assert len(found) == len(definition["override_hashes"])
    return found


def store_vector_experiments(database_url: str, indexes: list[int]) -> None:
    """Replace the stored experiments by the cases' own, exactly as each vector defines it."""
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    with session_scope(engine) as session:
        session.execute(delete(Experiment))
        for index in indexes:
            case = CASES[index]
            definition = case["experiment"]
            layer = definition["layer"]
            session.add(
                Experiment(
                    key=f"vector-{index}",
                    salt=definition["salt"],
                    name=case["name"][:200],
                    unit_type=definition["unit_type"],
                    variants=[{**v, "name": v["key"]} for v in definition["variants"]],
                    traffic=definition["traffic"],
                    targeting=definition["targeting"],
                    layer=layer["key"] if layer else None,
                    layer_ranges=layer["ranges"] if layer else [],
                    overrides=clear_overrides(definition),
                    design=Design(),
                    metrics=MetricSelection(primary="conversion_rate"),
                    status=definition["status"],
                    winner=definition["winner"],
                    created_at=now,
                    updated_at=now,
                )
            )
    engine.dispose()


def test_every_test_vector(client: TestClient, sdk_headers: Headers, database_url: str) -> None:
    checked = 0
    for indexes in layer_free_groups(CASES):
        store_vector_experiments(database_url, indexes)
        client.app.state.evaluator_cache.invalidate()  # type: ignore[attr-defined]
        for index in indexes:
            case, key = CASES[index], f"vector-{index}"
            body: dict[str, Any] = {"unit_id": case["unit_id"], "experiments": [key]}
            if case["attributes"] is not None:
                body["attributes"] = case["attributes"]
            response = post_json(client, body, sdk_headers)
            if case["expected_reason"] == "invalid_input":
                assert response.status_code == 422, case["name"]
                continue
            assert response.status_code == 200, (case["name"], response.text)
            got = response.json()["assignments"][key]
            expected = (case["expected_variant"], case["expected_in_experiment"])
            assert (got["variant"], got["in_experiment"]) == expected, case["name"]
            checked += 1
    assert checked > 300


def test_assign_returns_payload(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers)
    client.post("/v1/experiments/checkout-onepage/start", headers=admin_headers)
    response = client.post("/v1/assign", json={"unit_id": "visitor-1"}, headers=sdk_headers)
    assert response.status_code == 200
    result = response.json()
    assert result["unit_id"] == "visitor-1"
    got = result["assignments"]["checkout-onepage"]
    assert got["in_experiment"] is True
    assert got["payload"] == {"layout": "multi" if got["variant"] == "multi-step" else "one"}
    unknown = client.post(
        "/v1/assign", json={"unit_id": "v", "experiments": ["nope"]}, headers=sdk_headers
    ).json()["assignments"]["nope"]
    assert unknown == {"variant": None, "payload": None, "in_experiment": False}


def test_the_server_honours_overrides(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers)
    client.post("/v1/experiments/checkout-onepage/start", headers=admin_headers)
    client.patch(
        "/v1/experiments/checkout-onepage",
        json={"overrides": {"ceo@shop.example": "one-page", "customer-10443": "multi-step"}},
        headers=admin_headers,
    )
    for unit_id, variant in [("ceo@shop.example", "one-page"), ("customer-10443", "multi-step")]:
        body = {"unit_id": unit_id, "experiments": ["checkout-onepage"]}
        got = client.post("/v1/assign", json=body, headers=sdk_headers).json()["assignments"]
        assert got["checkout-onepage"]["variant"] == variant
        assert got["checkout-onepage"]["in_experiment"] is False


def test_stopping_takes_effect_at_once(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers)
    client.post("/v1/experiments/checkout-onepage/start", headers=admin_headers)
    body = {"unit_id": "visitor-1", "experiments": ["checkout-onepage"]}
    assert client.post("/v1/assign", json=body, headers=sdk_headers).status_code == 200
    client.post(
        "/v1/experiments/checkout-onepage/stop", json={"winner": "one-page"}, headers=admin_headers
    )
    got = client.post("/v1/assign", json=body, headers=sdk_headers).json()["assignments"]
    assert got["checkout-onepage"] == {
        "variant": "one-page",
        "payload": {"layout": "one"},
        "in_experiment": False,
    }


@sqlite_only  # refused before anything is read or stored
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "unit_id"),
        ({"unit_id": ""}, "unit_id"),
        ({"unit_id": "   "}, "unit_id"),
        ({"unit_id": "x" * 257}, "unit_id"),
        ({"unit_id": 42}, "unit_id"),
        ({"unit_id": "v", "attributes": {"cart": {"value": 1}}}, "attributes.cart"),
        ({"unit_id": "v", "attributes": ["country"]}, "attributes"),
        ({"unit_id": "v", "attributes": {"n": float("nan")}}, "attributes.n"),
        ({"unit_id": "v", "experiments": ["Not A Slug"]}, "experiments[0]"),
        ({"unit_id": "v", "expose": "sometimes"}, "expose"),
        ({"unit_id": "v", "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_422(
    client: TestClient, sdk_headers: Headers, body: dict[str, Any], field: str
) -> None:
    assert_problem(post_json(client, body, sdk_headers), 422, field)


def test_targeting_is_validated_on_create(client: TestClient, admin_headers: Headers) -> None:
    targeting = {"all": [{"attribute": "country", "op": "eq", "value": "NO"}, {"op": "gt"}]}
    response = client.post(
        "/v1/experiments",
        json={
            "key": "t",
            "name": "T",
            "template": "cta",
            "targeting": targeting,
            "variants": [
                {"key": "a", "name": "A", "weight": 1},
                {"key": "b", "name": "B", "weight": 1},
            ],
        },
        headers=admin_headers,
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"].startswith("targeting.all[1]")


def test_assign_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/assign", json={"unit_id": "v"}).status_code == 401


def test_key_is_checked_before_the_body(client: TestClient) -> None:
    response = client.post(
        "/v1/assign", content=b"{not json", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 401


def test_openapi_documents_the_body(openapi_document: dict[str, Any]) -> None:
    operation = openapi_document["paths"]["/v1/assign"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"unit_id", "attributes", "experiments", "expose"} <= set(schema["properties"])


def test_expose_records_each_exposure_once(
    client: TestClient, admin_headers: Headers, sdk_headers: Headers
) -> None:
    create(client, admin_headers)
    create(client, admin_headers, key="draft-only")
    client.post("/v1/experiments/checkout-onepage/start", headers=admin_headers)
    body = {"unit_id": "visitor-7", "expose": True}
    for _ in range(3):
        response = client.post("/v1/assign", json=body, headers=sdk_headers)
        assert response.status_code == 200
    variant = response.json()["assignments"]["checkout-onepage"]["variant"]
    summary = client.get("/v1/events/summary", headers=admin_headers).json()
    assert summary["exposures"] == [
        {"experiment": "checkout-onepage", "variant": variant, "count": 1}
    ]
    quiet = {"unit_id": "visitor-8"}
    client.post("/v1/assign", json=quiet, headers=sdk_headers)
    again = client.get("/v1/events/summary", headers=admin_headers).json()
    assert again["exposures"] == summary["exposures"]
