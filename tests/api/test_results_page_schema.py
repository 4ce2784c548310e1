"""The OpenAPI describes every field the results routes serve, on looks rich in optional parts:
a margin guardrail, a percentile cap, a stop with its winner, a send to a fixed list waiting
for its window and then deciding, and the timeseries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from experiments.results.page import ResultsPage
from experiments.results.page_parts import PagePart
from experiments.results.timeseries_page import Timeseries
from experiments.settings import Settings
from tests.api.helpers import start_checkout
from tests.api.test_newsletter import KEY as NEWSLETTER
from tests.api.test_newsletter import counts, sent_days_ago
from tests.api.test_results import get_ok, send_past_traffic

METRICS = {
    "primary": "conversion_rate",
    "secondary": ["aov"],
    "guardrails": ["refund_rate", "cart_abandonment"],
    "guardrail_margins": {"refund_rate": 0.05},
    "cap_percentiles": {"aov": 99.0},
}


@contextmanager
def forbidding_extra_fields() -> Iterator[None]:
    """The page models refuse any field they do not declare (they ignore them when reading
    old looks), while the block runs."""
    parts = list(PagePart.__subclasses__())  # in definition order: a part before its users
    try:
        for part in parts:
            part.model_config["extra"] = "forbid"
            part.model_rebuild(force=True)
        yield
    finally:
        for part in parts:
            part.model_config["extra"] = "ignore"
            part.model_rebuild(force=True)


def undescribed(
    value: Any, schema: dict[str, Any], components: dict[str, Any], at: str
) -> list[str]:
    """The paths of the fields in `value` that `schema` (OpenAPI) does not name."""
    schema = _resolved(schema, value, components)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        missing = [f"{at}.{name}" for name in value if name not in properties]
        for name, inner in value.items():
            if name in properties:
                missing += undescribed(inner, properties[name], components, f"{at}.{name}")
        return missing
    if isinstance(value, list):
        return [
            path
            for index, item in enumerate(value)
            for path in undescribed(item, schema.get("items", {}), components, f"{at}[{index}]")
        ]
    return []


def _resolved(schema: dict[str, Any], value: Any, components: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolved(components[schema["$ref"].rsplit("/", 1)[-1]], value, components)
    for branch in schema.get("anyOf", ()):
        wanted = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else ""
        resolved = _resolved(branch, value, components)
        if wanted and resolved.get("type") == wanted:
            return resolved
    return schema


def served_answers(client: TestClient, headers: dict[str, str], settings: Settings) -> list[Any]:
    key = start_checkout(client, headers, metrics=METRICS)
    send_past_traffic(client, headers, key, 1500, 0.3, seed=12, since=timedelta(days=3))
    answers = [get_ok(client, headers, f"/v1/experiments/{key}/results")]
    answers.append(
        get_ok(client, headers, f"/v1/experiments/{key}/results/timeseries", metric="refund_rate")
    )
    snapshot = client.post(f"/v1/experiments/{key}/snapshots", headers=headers)
    assert snapshot.status_code == 201, snapshot.text
    answers.append(snapshot.json())
    stop = client.post(f"/v1/experiments/{key}/stop", json={"winner": "one-page"}, headers=headers)
    assert stop.status_code == 200, stop.text
    answers.append(get_ok(client, headers, f"/v1/experiments/{key}/results"))
    sent = sent_days_ago(client, headers, settings)
    url = f"/v1/experiments/{NEWSLETTER}"
    early = counts(sent + timedelta(hours=20), 40, 72)
    assert client.post(f"{url}/counts", json=early, headers=headers).status_code == 201
    waiting = (sent + timedelta(hours=30)).isoformat()
    answers.append(get_ok(client, headers, f"{url}/results", as_of=waiting))
    final = counts(sent + timedelta(hours=75), 60, 110, unsubscribed=5)
    assert client.post(f"{url}/counts", json=final, headers=headers).status_code == 201
    answers.append(get_ok(client, headers, f"{url}/results"))
    return answers


def test_the_openapi_describes_every_field_the_results_routes_serve(
    client: TestClient,
    admin_headers: dict[str, str],
    settings: Settings,
    openapi_document: dict[str, Any],
) -> None:
    results, series, snapshot, stopped, waiting, decided = served_answers(
        client, admin_headers, settings
    )
    # The looks carry the optional parts this test is about.
    refunds = next(m for m in results["metrics"] if m["metric"] == "refund_rate")
    assert "margin_bounds" in refunds["comparisons"][0] and "guardrail" in refunds["comparisons"][0]
    assert results["metrics"][1]["cap"] is not None
    assert stopped["decision"]["outcome"]["winner"] == "one-page"
    assert waiting["decision"]["wait_until"] is not None
    assert decided["decision"]["list"] is not None and decided["decision"]["send"] is not None
    openapi = openapi_document
    components = openapi["components"]["schemas"]
    paths = openapi["paths"]
    results_schema = paths["/v1/experiments/{key}/results"]["get"]["responses"]["200"]
    snapshot_schema = paths["/v1/experiments/{key}/snapshots"]["post"]["responses"]["201"]
    series_schema = paths["/v1/experiments/{key}/results/timeseries"]["get"]["responses"]["200"]
    for page in (results, stopped, waiting, decided):
        described = results_schema["content"]["application/json"]["schema"]
        assert undescribed(page, described, components, "page") == []
    described = snapshot_schema["content"]["application/json"]["schema"]
    assert undescribed(snapshot, described, components, "snapshot") == []
    described = series_schema["content"]["application/json"]["schema"]
    assert undescribed(series, described, components, "timeseries") == []
    with forbidding_extra_fields():
        for page in (results, snapshot, stopped, waiting, decided):
            assert ResultsPage.model_validate(page).as_json() == page
        assert Timeseries.model_validate(series).as_json() == series


def test_the_models_refuse_an_undeclared_field_while_forbidding() -> None:
    """The check above would catch a served field the models leave out."""
    served = {"experiment": "exp", "status": "running", "summary": "", "unknown": 1}
    with forbidding_extra_fields(), pytest.raises(ValueError, match="unknown"):
        ResultsPage.model_validate(served)
    assert PagePart.model_config["extra"] == "ignore"
