"""Custom metrics through `POST /v1/metrics`, the catalogue through `GET /v1/metrics`."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from experiments.metrics import builtin_metrics
from tests.api.helpers import experiment_body
from tests.databases import sqlite_only


def metric_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "items_per_visitor",
        "name": "Items per visitor",
        "kind": "mean",
        "numerator_event": "add_to_cart",
        "numerator_aggregation": "count",
        "direction": "increase",
        "cap": 20,
    }
    body.update(changes)
    return body


def test_create_and_list(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post("/v1/metrics", json=metric_body(), headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["builtin"] is False
    assert created.json()["cap"] == 20
    listed = client.get("/v1/metrics", headers=admin_headers).json()
    keys = [metric["key"] for metric in listed]
    assert keys == [*builtin_metrics(), "items_per_visitor"]
    aov = next(metric for metric in listed if metric["key"] == "aov")
    assert aov["builtin"] is True
    assert aov["denominator_aggregation"] == "count"


def test_experiment_may_use_a_custom_metric(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = experiment_body(metrics={"primary": "items_per_visitor"})
    assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 422
    client.post("/v1/metrics", json=metric_body(), headers=admin_headers)
    response = client.post("/v1/experiments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text


def test_ratio_metric_needs_a_denominator(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = metric_body(key="revenue_per_order", kind="ratio", numerator_aggregation="sum")
    response = client.post("/v1/metrics", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert "denominator_event" in response.text
    body["denominator_event"] = "purchase"
    assert client.post("/v1/metrics", json=body, headers=admin_headers).status_code == 201


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"key": "aov"}, "key"),
        ({"key": "Not A Slug"}, "key"),
        ({"numerator_event": "Add To Cart"}, "numerator_event"),
        ({"kind": "conversion"}, "numerator_aggregation"),
        ({"numerator_aggregation": "any"}, "numerator_aggregation"),
        ({"denominator_event": "purchase"}, "denominator_event"),
        ({"cap": 0}, "cap"),
        ({"window_hours": -1}, "window_hours"),
        ({"direction": "sideways"}, "direction"),
        ({"sources": []}, "sources"),
        ({"sources": ["browser"]}, "sources"),
        ({"sources": ["server", "server"]}, "sources"),
        ({"sources": "server"}, "sources"),
        ({"sources": [None]}, "sources"),
        ({"pasted_field": "revenue"}, "pasted_field"),
        ({"pasted_field": "opened"}, "pasted_field"),
        ({"pasted_field": "bounced"}, "pasted_field"),
        ({"denominator_noun": "order"}, "denominator_noun"),
        ({"counted_as": ""}, "counted_as"),
        ({"counted_as": " "}, "counted_as"),
        ({"name": "\u00a0"}, "name"),
    ],
)
def test_bad_metric_names_the_field(
    client: TestClient, admin_headers: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/metrics", json=metric_body(**changes), headers=admin_headers)
    assert response.status_code == 422, response.text
    named = [re.split(r"[.\[]", error["field"])[0] for error in response.json()["errors"]]
    assert field in named


def test_a_metric_may_count_only_some_sources(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = metric_body(key="server_items", sources=["server", "admin"])
    created = client.post("/v1/metrics", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["sources"] == ["server", "admin"]
    listed = {
        metric["key"]: metric for metric in client.get("/v1/metrics", headers=admin_headers).json()
    }
    assert listed["server_items"]["sources"] == ["server", "admin"]  # stored
    assert listed["aov"]["sources"] is None  # every source counts


def test_duplicate_key_conflicts(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.post("/v1/metrics", json=metric_body(), headers=admin_headers).status_code == 201
    response = client.post("/v1/metrics", json=metric_body(), headers=admin_headers)
    assert response.status_code == 409
    assert "items_per_visitor" in response.text


def test_metrics_need_the_admin_key(client: TestClient, sdk_headers: dict[str, str]) -> None:
    assert client.get("/v1/metrics", headers=sdk_headers).status_code == 403
    assert client.post("/v1/metrics", json=metric_body()).status_code == 401


def test_a_custom_metric_carries_its_words_and_pasted_field(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """The facts the built-in metrics set in the catalogue are optional fields of a custom one:
    stored, listed, and empty (the defaults) when not given."""
    body = metric_body(
        key="replies_rate",
        kind="conversion",
        numerator_event="reply",
        numerator_aggregation="any",
        cap=None,
        counted_as="replies",
        pasted_field="clicked",
    )
    created = client.post("/v1/metrics", json=body, headers=admin_headers)
    assert created.status_code == 201, created.text
    listed = {
        metric["key"]: metric for metric in client.get("/v1/metrics", headers=admin_headers).json()
    }
    assert listed["replies_rate"]["counted_as"] == "replies"
    assert listed["replies_rate"]["pasted_field"] == "clicked"
    assert listed["replies_rate"]["denominator_noun"] is None
    assert listed["aov"]["denominator_noun"] == "order"
    assert listed["newsletter_click_rate"]["pasted_field"] == "clicked"


def _quantile_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": "p90_order_value",
        "name": "90th percentile order value",
        "kind": "quantile",
        "quantile": 0.9,
        "numerator_event": "purchase",
    }
    body.update(changes)
    return body


@sqlite_only  # refused before anything is stored
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantile": None}, "quantile"),
        ({"quantile": 0}, "quantile"),
        ({"quantile": 1}, "quantile"),
        ({"quantile": 1e308}, "quantile"),
        ({"quantile": "NaN"}, "quantile"),
        ({"kind": "mean", "numerator_aggregation": "sum"}, "quantile"),
        ({"numerator_aggregation": "sum"}, "numerator_aggregation"),
        ({"numerator_unless": "refund"}, "numerator_unless"),
        ({"cap": 10_000}, "cap"),
        ({"denominator_event": "purchase"}, "denominator_event"),
    ],
)
def test_quantile_metric_rules(
    client: TestClient, admin_headers: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/metrics", json=_quantile_body(**changes), headers=admin_headers)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_quantile_metric_is_a_secondary_or_guardrail_never_the_primary(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = client.post("/v1/metrics", json=_quantile_body(), headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["quantile"] == 0.9
    listed = client.get("/v1/metrics", headers=admin_headers).json()
    median = next(metric for metric in listed if metric["key"] == "median_order_value")
    assert (median["kind"], median["quantile"]) == ("quantile", 0.5)
    primary = experiment_body(metrics={"primary": "median_order_value"})
    refused = client.post("/v1/experiments", json=primary, headers=admin_headers)
    assert refused.status_code == 422
    assert "metrics.primary" in refused.text and "quantile" in refused.text
    capped = experiment_body(
        metrics={
            "primary": "conversion_rate",
            "secondary": ["median_order_value"],
            "cap_percentiles": {"median_order_value": 99},
        }
    )
    refused = client.post("/v1/experiments", json=capped, headers=admin_headers)
    assert refused.status_code == 422 and "cap_percentiles" in refused.text
    body = experiment_body(
        metrics={
            "primary": "conversion_rate",
            "secondary": ["median_order_value"],
            "guardrails": ["p90_order_value"],
        }
    )
    response = client.post("/v1/experiments", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
