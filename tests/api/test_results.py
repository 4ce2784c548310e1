"""Results through the whole path: HTTP events in, SQL aggregation, stats, JSON out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from experiments.metrics import builtin_metrics
from experiments.results.readings.direction import oriented
from experiments.results.readings.metric_analysis import stats_inputs
from experiments.results.sums.aggregation import VariantSums
from experiments.settings import Settings
from experiments.templates import TEMPLATES, Template
from stats import AnalysisOptions, analyze_stats, sample_size
from tests.api.helpers import (
    assert_close,
    backdate_start,
    experiment_body,
    past_events,
    send_raw_events,
    start_checkout,
)
from tests.experiments.results.simulation import RawEvents, reference_sums, simulate_shop


def get_ok(client: TestClient, headers: dict[str, str], path: str, **params: str) -> Any:
    """The JSON answer to GET `path` with the query `params`; the status must be 200."""
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def send_past_traffic(
    client: TestClient,
    headers: dict[str, str],
    key: str,
    units: int,
    uplift: float,
    *,
    seed: int,
    since: timedelta,
) -> RawEvents:
    """Simulate the shop from `since` ago until a minute ago, send it, and return what was sent."""
    now = datetime.now(UTC)
    raw = past_events(
        simulate_shop(
            units,
            uplift,
            seed=seed,
            experiment=key,
            start=now - since,
            variants=("multi-step", "one-page"),
        ),
        now - timedelta(minutes=1),
    )
    send_raw_events(client, headers, raw)
    return raw


def test_results_equal_statistics_of_the_raw_data(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    key = start_checkout(client, admin_headers)
    raw = send_past_traffic(client, admin_headers, key, 1500, 0.3, seed=5, since=timedelta(days=6))
    page = get_ok(client, admin_headers, f"/v1/experiments/{key}/results")
    defaults = TEMPLATES[Template.CHECKOUT]
    keys = [defaults.primary, *defaults.secondary, *defaults.guardrails]
    assert [metric["metric"] for metric in page["metrics"]] == keys
    assert page["metrics"][0]["role"] == "primary"
    assert page["metrics"][-1]["role"] == "guardrail"
    end = datetime.fromisoformat(page["as_of"])
    for metric in page["metrics"]:
        definition = builtin_metrics()[metric["metric"]]
        if definition.kind == "quantile":  # not summed: tests/experiments/results/*/test_quantile*
            continue
        if metric["cap"] is not None:  # the template caps revenue at its 99.9th percentile
            definition = definition.model_copy(update={"cap": metric["cap"]["value"]})
        reference = reference_sums(raw, definition, end, experiment=key, cuped=True)
        sums = {
            variant: VariantSums.from_fields(values)
            for variant, values in sorted(
                reference.items(), key=lambda item: item[0] != "multi-step"
            )
        }
        # The page orients the Bayesian reading by the metric's direction (lower is better
        # for cart abandonment and refunds).
        expected = oriented(
            analyze_stats(
                stats_inputs(definition, sums), AnalysisOptions(planned_units_per_variant=None)
            ),
            definition.direction,
        )
        assert [v["n"] for v in metric["variants"]] == [s.totals.n for s in sums.values()]
        for got, want in zip(metric["variants"], expected.to_dict()["variants"], strict=True):
            assert got["value"] == pytest.approx(want["mean"], rel=1e-9)
        if definition.kind == "mean":
            assert "cuped" in metric["comparisons"][0]
        got_comparison = metric["comparisons"][0]
        want_comparison = expected.to_dict()["comparisons"][0]
        for field in ("absolute", "relative", "bayesian", "p_value", "reason", "cuped"):
            assert_close(got_comparison.get(field), want_comparison.get(field))
        # Each comparison says its family; the secondary metrics are one BH family.
        family = got_comparison["family"]
        assert family["family"] == metric["role"]
        assert family["correction"] == ("bh" if metric["role"] == "secondary" else "within_metric")
    assert page["decision"]["verdict"] in {"ship", "stop", "keep_running", "inconclusive"}
    assert page["summary"]
    assert any("more than one variant" in warning for warning in page["warnings"])


def test_results_of_a_quiet_experiment_say_keep_running(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    key = start_checkout(client, admin_headers)
    backdate_start(settings.database_url, key, timedelta(days=6))  # a pace to project from
    send_past_traffic(client, admin_headers, key, 400, 0.0, seed=8, since=timedelta(days=6))
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    decision = page["decision"]
    assert decision["verdict"] == "keep_running"
    assert decision["additional_units_per_variant"] > 1000
    assert decision["additional_days"] >= 1
    assert "Keep running" in page["summary"]


def test_as_of_before_any_event_gives_reasons_not_errors(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    key = start_checkout(client, admin_headers)
    page = get_ok(
        client, admin_headers, f"/v1/experiments/{key}/results", as_of="2020-01-01T00:00:00Z"
    )
    assert all(metric["reason"] == "not_enough_units" for metric in page["metrics"])
    assert page["decision"]["verdict"] == "keep_running"


def test_timeseries_has_one_cumulative_point_per_day(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    key = start_checkout(client, admin_headers)
    send_past_traffic(client, admin_headers, key, 300, 0.0, seed=2, since=timedelta(hours=2))
    series = get_ok(
        client,
        admin_headers,
        f"/v1/experiments/{key}/results/timeseries",
        metric="revenue_per_visitor",
    )
    assert series["metric"] == "revenue_per_visitor"
    assert len(series["points"]) >= 1
    last = series["points"][-1]
    assert sum(variant["n"] for variant in last["variants"]) > 0


def test_results_errors_name_the_problem(
    client: TestClient, admin_headers: dict[str, str], sdk_headers: dict[str, str]
) -> None:
    assert client.get("/v1/experiments/nope/results", headers=admin_headers).status_code == 404
    body = experiment_body(key="draft-one")
    client.post("/v1/experiments", json=body, headers=admin_headers)
    draft = client.get("/v1/experiments/draft-one/results", headers=admin_headers)
    assert draft.status_code == 409
    assert "start" in draft.text
    key = start_checkout(client, admin_headers)
    for view, params, field in (
        ("results", {"as_of": "2026-01-01T00:00:00"}, "as_of"),  # no time zone
        ("results/timeseries", {"metric": "cta_click_rate"}, "metric"),  # not in the experiment
    ):
        refused = client.get(f"/v1/experiments/{key}/{view}", params=params, headers=admin_headers)
        assert refused.status_code == 422
        assert field in refused.text
    assert client.get(f"/v1/experiments/{key}/results", headers=sdk_headers).status_code == 403


@pytest.mark.parametrize(
    ("winner", "statement", "state", "headline"),
    [
        (
            "one-page",
            "Stopped on {day}; one-page shipped to everyone",
            "shipped",
            "Shipped one-page",
        ),
        (
            None,
            "Stopped on {day} without a winner",
            "stopped_without_winner",
            "Stopped without a winner",
        ),
    ],
)
def test_results_after_the_stop_say_what_was_done(
    client: TestClient,
    admin_headers: dict[str, str],
    winner: str | None,
    statement: str,
    state: str,
    headline: str,
) -> None:
    key = start_checkout(client, admin_headers)
    send_past_traffic(client, admin_headers, key, 400, 0.0, seed=8, since=timedelta(days=6))
    running = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    assert running["decision"]["outcome"] is None
    body = {"winner": winner} if winner else None
    stopped = client.post(f"/v1/experiments/{key}/stop", json=body, headers=admin_headers).json()
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    said = statement.format(day=stopped["stopped_at"][:10])
    outcome = page["decision"]["outcome"]
    assert (outcome["winner"], outcome["statement"]) == (winner, said[:1].lower() + said[1:])
    assert datetime.fromisoformat(outcome["stopped_at"]) == datetime.fromisoformat(
        stopped["stopped_at"]
    )
    # What the data said at the stop stays beside it: verdict, reason and summary.
    assert page["decision"]["verdict"] == running["decision"]["verdict"] == "keep_running"
    assert page["decision"]["reason"] == running["decision"]["reason"]
    # What was done leads: a field for the state a client shows, and the summary's first words.
    stopped_on = datetime.fromisoformat(stopped["stopped_at"])
    lead = f"{headline} on {stopped_on.day} {stopped_on:%B %Y}"
    assert (page["display_state"], page["headline"]) == (state, lead)
    assert running["display_state"] == "keep_running" and running["headline"] == "Keep running"
    assert page["summary"].startswith(f"{lead}. At the stop the data said: ")
    listed = client.get("/v1/experiments", params={"include": "results"}, headers=admin_headers)
    (item,) = [entry for entry in listed.json()["items"] if entry["key"] == key]
    assert (item["results"]["display_state"], item["results"]["headline"]) == (state, lead)
    assert item["results"]["verdict"] == "keep_running"
    # Five orders or so per arm: too little for a reading of purchase conversion.
    assert "There is not enough data yet on purchase conversion for a reading." in page["summary"]
    assert "about about" not in page["summary"]


def test_the_plan_is_fixed_at_start_and_read_alike_by_results_and_timeseries(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    """The plan (and so the mixture's tuning) comes from the design's assumption at the start,
    not from the data; the results page and the timeseries read the same one."""
    key = start_checkout(client, admin_headers)
    design = client.get(f"/v1/experiments/{key}", headers=admin_headers).json()["design"]
    planned = sample_size(baseline_rate=0.025, mde_relative=0.1).units_per_variant
    assert design["planned_units_per_variant"] == planned
    send_past_traffic(client, admin_headers, key, 3000, 0.0, seed=9, since=timedelta(days=2))
    # Stopped, both read the same end.
    assert client.post(f"/v1/experiments/{key}/stop", headers=admin_headers).status_code == 200
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    smallest = min(variant["n"] for variant in page["metrics"][0]["variants"])
    assert page["decision"]["verdict"] == "keep_running"
    assert page["decision"]["additional_units_per_variant"] == planned - smallest
    series = get_ok(
        client, admin_headers, f"/v1/experiments/{key}/results/timeseries", metric="conversion_rate"
    )
    last = series["points"][-1]
    assert last["as_of"] == page["as_of"]
    assert_close(last["comparisons"], page["metrics"][0]["comparisons"])
    assert last["comparisons"][0]["sequential"]["p_value"] is not None


def test_margins_and_percentile_caps_are_validated_and_applied(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    metrics = {
        "primary": "conversion_rate",
        "secondary": ["aov"],
        "guardrails": ["refund_rate"],
        "guardrail_margins": {"refund_rate": 0.05},
        "cap_percentiles": {"aov": 99.0},
    }
    for bad, field in (
        ({**metrics, "guardrail_margins": {"aov": 0.05}}, "metrics.guardrail_margins"),
        ({**metrics, "guardrail_margins": {"refund_rate": 1.5}}, "metrics.guardrail_margins"),
        ({**metrics, "cap_percentiles": {"aov": 100.0}}, "metrics.cap_percentiles"),
        ({**metrics, "cap_percentiles": {"revenue_per_visitor": 99.0}}, "metrics.cap_percentiles"),
    ):
        body = experiment_body(key="bad-one", metrics=bad)
        response = client.post("/v1/experiments", json=body, headers=admin_headers)
        assert response.status_code == 422, (bad, response.text)
        assert any(error["field"].startswith(field) for error in response.json()["errors"])
    key = start_checkout(client, admin_headers, metrics=metrics)
    send_past_traffic(client, admin_headers, key, 1500, 0.0, seed=12, since=timedelta(days=3))
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    aov = next(metric for metric in page["metrics"] if metric["metric"] == "aov")
    assert aov["cap"]["percentile"] == 99.0 and aov["cap"]["value"] > 0
    # The cap at this look in words, and what the interval is about.
    assert aov["cap"]["description"] == (
        f"Each visitor counted up to {round(aov['cap']['value']):,} NOK (the 99th percentile at "
        "this look); the interval is about these capped values, not the uncapped ones."
    )
    assert page["metrics"][0]["cap"] is None
    # The margin guardrail carries its one-sided bounds, inside the two-sided interval shown.
    refunds = next(metric for metric in page["metrics"] if metric["metric"] == "refund_rate")
    assert refunds["margin"] == 0.05
    for comparison in refunds["comparisons"]:
        bounds, shown = comparison["margin_bounds"], comparison["sequential"]["relative"]
        assert bounds["alternative"] == "one-sided"
        if shown["ci_low"] is not None and shown["ci_high"] is not None:
            assert shown["ci_low"] < bounds["ci_low"] < bounds["ci_high"] < shown["ci_high"]
    assert all("margin_bounds" not in comparison for comparison in aov["comparisons"])


def test_a_cap_below_the_95th_percentile_is_refused_at_definition(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    metrics = {"primary": "conversion_rate", "secondary": ["aov"]}
    lows = [{**metrics, "cap_percentiles": {"aov": percentile}} for percentile in (50, 90, 94.9)]
    for low in lows:
        body = experiment_body(key="low-cap", metrics=low)
        response = client.post("/v1/experiments", json=body, headers=admin_headers)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "metrics.cap_percentiles.aov"
        assert error["rule"].startswith("must be at least 95 (it is")
    body = experiment_body(key="low-cap", metrics={**metrics, "cap_percentiles": {"aov": 95.0}})
    assert client.post("/v1/experiments", json=body, headers=admin_headers).status_code == 201
    for low in lows:
        patched = client.patch(
            "/v1/experiments/low-cap", json={"metrics": low}, headers=admin_headers
        )
        assert patched.status_code == 422, patched.text
        assert patched.json()["errors"][0]["field"] == "metrics.cap_percentiles.aov"


def test_no_days_left_figure_after_a_few_minutes_of_traffic(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    key = start_checkout(client, admin_headers, key="just-started")
    send_past_traffic(client, admin_headers, key, 2000, 0.0, seed=2, since=timedelta(hours=2))
    page = client.get(f"/v1/experiments/{key}/results", headers=admin_headers).json()
    assert page["decision"]["verdict"] == "keep_running"
    assert sum(variant["n"] for variant in page["metrics"][0]["variants"]) >= 2
    assert page["decision"]["additional_days"] is None
    assert "years" not in page["summary"] and "more days" not in page["summary"]
    assert "too early to estimate how long: come back tomorrow" in page["summary"]


def test_the_openapi_documents_the_state_to_show(openapi_document: dict[str, Any]) -> None:
    """The document alone (no database plays a part, so the test runs once, not per database)."""
    schema = openapi_document["components"]["schemas"]["ResultsPage"]
    described = schema["properties"]["display_state"]["description"]
    assert "shipped" in described and "stopped_without_winner" in described
    assert "Shipped one-page on 5 December" in schema["properties"]["headline"]["description"]
