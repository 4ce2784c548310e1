"""Experiment definitions through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, create, experiment_body
from tests.databases import sqlite_only

Headers = dict[str, str]


# --- bad input first -------------------------------------------------------------------------


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize("missing", ["key", "name", "variants"])
def test_missing_field_is_named(client: TestClient, admin_headers: Headers, missing: str) -> None:
    body = experiment_body()
    del body[missing]
    problem = assert_problem(client.post("/v1/experiments", json=body, headers=admin_headers), 422)
    assert {"field": missing, "rule": "is required"} in problem["errors"]


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize(
    ("changes", "field", "rule_part"),
    [
        ({"name": 12}, "name", "string"),
        ({"traffic": "lots"}, "traffic", "number"),
        ({"traffic": 0}, "traffic", "> 0"),
        ({"traffic": 1.5}, "traffic", "<= 1"),
        ({"key": "Checkout Test"}, "key", "slug"),
        ({"key": "x" * 65}, "key", "slug"),
        ({"key": ""}, "key", "slug"),
        ({"template": "homepage"}, "template", "one of"),
        ({"unknown_field": 1}, "unknown_field", "not a known field"),
        ({"design": {"alpha": 0.7}}, "design.alpha", "< 0.5"),
        ({"design": {"secondary_correction": "fdr"}}, "design.secondary_correction", "'bh'"),
        ({"metrics": {"primary": "conversion_rate", "extra": 1}}, "metrics.extra", "not a known"),
    ],
)
def test_bad_field_names_field_and_rule(
    client: TestClient, admin_headers: Headers, changes: dict[str, Any], field: str, rule_part: str
) -> None:
    response = client.post(
        "/v1/experiments", json=experiment_body(**changes), headers=admin_headers
    )
    problem = assert_problem(response, 422, field)
    rule = next(error["rule"] for error in problem["errors"] if error["field"] == field)
    assert rule_part in rule


def test_weight_must_be_positive(client: TestClient, admin_headers: Headers) -> None:
    variants = [
        {"key": "a", "name": "A", "weight": 1},
        {"key": "b", "name": "B", "weight": 0},
    ]
    response = client.post(
        "/v1/experiments", json=experiment_body(variants=variants), headers=admin_headers
    )
    problem = assert_problem(response, 422, "variants[1].weight")
    assert "variants[1].weight must be > 0" in problem["detail"]


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize(
    ("variants", "field"),
    [
        ([{"key": "a", "name": "A", "weight": 1}], "variants"),
        ([{"key": f"v{i}", "name": "V", "weight": 1} for i in range(11)], "variants"),
        (
            [{"key": "a", "name": "A", "weight": 1}, {"key": "a", "name": "B", "weight": 1}],
            "variants[1].key",
        ),
        (
            [{"key": "a", "name": "A", "weight": 1}, {"key": "B!", "name": "B", "weight": 1}],
            "variants[1].key",
        ),
        (
            [{"key": "a", "name": "A", "weight": -2}, {"key": "b", "name": "B", "weight": 1}],
            "variants[0].weight",
        ),
        ([{"key": "a", "name": "A", "weight": 1}, {"key": "b", "weight": 1}], "variants[1].name"),
    ],
)
def test_bad_variants(
    client: TestClient, admin_headers: Headers, variants: list[dict[str, Any]], field: str
) -> None:
    response = client.post(
        "/v1/experiments", json=experiment_body(variants=variants), headers=admin_headers
    )
    assert_problem(response, 422, field)


def test_unknown_metric_is_refused(client: TestClient, admin_headers: Headers) -> None:
    metrics = {"primary": "conversion_rate", "guardrails": ["happiness"]}
    response = client.post(
        "/v1/experiments", json=experiment_body(metrics=metrics), headers=admin_headers
    )
    problem = assert_problem(response, 422, "metrics.guardrails[0]")
    assert "'happiness' is not a known metric" in problem["detail"]


def test_metrics_required_without_template(client: TestClient, admin_headers: Headers) -> None:
    response = client.post(
        "/v1/experiments", json=experiment_body(template=None), headers=admin_headers
    )
    assert_problem(response, 422, "metrics")


def test_override_must_name_a_variant(client: TestClient, admin_headers: Headers) -> None:
    response = client.post(
        "/v1/experiments",
        json=experiment_body(overrides={"qa-anna": "three-step"}),
        headers=admin_headers,
    )
    assert_problem(response, 422, "overrides.qa-anna")


def test_duplicate_key_is_a_conflict(client: TestClient, admin_headers: Headers) -> None:
    create(client, admin_headers)
    response = client.post("/v1/experiments", json=experiment_body(), headers=admin_headers)
    problem = assert_problem(response, 409)
    assert "exists already" in problem["detail"]


def test_invalid_json_is_one_problem(client: TestClient, admin_headers: Headers) -> None:
    response = client.post(
        "/v1/experiments",
        content=b'{"key": ',
        headers={**admin_headers, "content-type": "application/json"},
    )
    problem = assert_problem(response, 422, "body")
    assert "not valid JSON" in problem["detail"]


def test_body_over_the_limit_is_413(client: TestClient, admin_headers: Headers) -> None:
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    response = client.post(
        "/v1/experiments",
        content=b" " * (limit + 1),
        headers={**admin_headers, "content-type": "application/json"},
    )
    problem = assert_problem(response, 413)
    assert str(limit) in problem["detail"]


# --- what works ------------------------------------------------------------------------------


def test_create_fills_template(client: TestClient, admin_headers: Headers) -> None:
    created = create(client, admin_headers)
    assert created["status"] == "draft"
    assert created["unit_type"] == "visitor"
    assert created["metrics"] == {
        "primary": "conversion_rate",
        "secondary": ["aov", "median_order_value", "revenue_per_visitor", "checkout_start_rate"],
        "guardrails": ["cart_abandonment", "refund_rate"],
        "guardrail_margins": {},
        "cap_percentiles": {"aov": 99.9, "revenue_per_visitor": 99.9},
    }
    assert created["design"] == {
        "alpha": 0.05,
        "power": 0.8,
        "mde_relative": 0.1,
        "planned_units_per_variant": None,
        "population": None,
        "attribution_hours": None,
        "test_share": None,
        "baseline_rate": None,
        "baseline_cv": None,
        "planned_from": None,
        "observed_baseline": None,
        "replanned_at": None,
        "currency": "NOK",
        "secondary_correction": "bh",
    }
    assert created["variants"][1]["payload"] == {"layout": "one"}
    assert "salt" not in created and "id" not in created and "layer_ranges" not in created


@pytest.mark.parametrize(
    ("template", "unit_type", "primary"),
    [("cta", "visitor", "cta_click_rate"), ("newsletter", "subscriber", "newsletter_click_rate")],
)
def test_templates(
    client: TestClient, admin_headers: Headers, template: str, unit_type: str, primary: str
) -> None:
    created = create(client, admin_headers, template=template)
    assert (created["unit_type"], created["metrics"]["primary"]) == (unit_type, primary)


def test_request_wins_over_template(client: TestClient, admin_headers: Headers) -> None:
    created = create(
        client,
        admin_headers,
        template="newsletter",
        unit_type="user",
        metrics={"primary": "newsletter_open_rate"},
    )
    assert created["unit_type"] == "user"
    assert created["metrics"] == {
        "primary": "newsletter_open_rate",
        "secondary": [],
        "guardrails": [],
        "guardrail_margins": {},
        "cap_percentiles": {},
    }


def test_get_and_404(client: TestClient, admin_headers: Headers) -> None:
    created = create(client, admin_headers)
    assert client.get("/v1/experiments/checkout-onepage", headers=admin_headers).json() == created
    assert_problem(client.get("/v1/experiments/nope", headers=admin_headers), 404)


def test_list_is_paginated(client: TestClient, admin_headers: Headers) -> None:
    for index in range(5):
        create(client, admin_headers, key=f"exp-{index}")
    client.post("/v1/experiments/exp-3/start", headers=admin_headers)
    page = client.get("/v1/experiments?limit=2&offset=2", headers=admin_headers).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 2
    assert [item["key"] for item in page["items"]] == ["exp-2", "exp-3"]
    running = client.get("/v1/experiments?status=running", headers=admin_headers).json()
    assert [item["key"] for item in running["items"]] == ["exp-3"]
    assert_problem(client.get("/v1/experiments?limit=0", headers=admin_headers), 422, "limit")


def test_patch_changes_only_fields_sent(client: TestClient, admin_headers: Headers) -> None:
    created = create(client, admin_headers)
    response = client.patch(
        "/v1/experiments/checkout-onepage",
        json={"name": "Renamed", "traffic": 0.5},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "Renamed" and updated["traffic"] == 0.5
    for field in ("hypothesis", "variants", "metrics", "design", "unit_type"):
        assert updated[field] == created[field]
    assert_problem(
        client.patch(
            "/v1/experiments/checkout-onepage", json={"name": None}, headers=admin_headers
        ),
        422,
        "name",
    )
    assert_problem(
        client.patch("/v1/experiments/checkout-onepage", json={"color": 1}, headers=admin_headers),
        422,
        "color",
    )


def test_patch_null_removes_targeting_and_layer(client: TestClient, admin_headers: Headers) -> None:
    targeting = {"attribute": "country", "op": "eq", "value": "NO"}
    create(
        client, admin_headers, targeting=targeting, layer="checkout", overrides={"qa": "one-page"}
    )
    url = "/v1/experiments/checkout-onepage"
    patch: dict[str, Any] = {"targeting": None, "layer": None, "overrides": {}}
    updated = client.patch(url, json=patch, headers=admin_headers).json()
    assert (updated["targeting"], updated["layer"], updated["overrides"]) == (None, None, {})
