"""POST /v1/stats/analyze and /v1/stats/sample-size: the engine over HTTP, errors as 422s."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import stats
from api.routes.stats import AOV_EXAMPLE, NEWSLETTER_EXAMPLE
from tests.api.helpers import assert_problem
from tests.databases import sqlite_only
from tests.stats.helpers import SEQUENTIAL_READING_KEYS

# The statistics routes read and store nothing: the database plays no part in any test here.
pytestmark = sqlite_only

Headers = dict[str, str]
KNOWN = {
    "kind": "proportion",
    "variants": [
        {"key": "control", "n": 10000, "conversions": 250},
        {"key": "treatment", "n": 10000, "conversions": 300},
    ],
}


def test_known_values(client: TestClient, sdk_headers: Headers) -> None:
    response = client.post("/v1/stats/analyze", json=KNOWN, headers=sdk_headers)
    assert response.status_code == 200, response.text
    result = response.json()
    comparison = result["comparisons"][0]
    assert comparison["p_value"] == pytest.approx(0.0306, abs=5e-4)
    assert comparison["absolute"]["ci_low"] == pytest.approx(0.00047, abs=1e-5)
    assert comparison["absolute"]["ci_high"] == pytest.approx(0.00953, abs=1e-5)
    assert comparison["significant"] is True
    assert set(comparison["sequential"]) == SEQUENTIAL_READING_KEYS
    assert set(comparison["bayesian"]) == {"chance_to_beat", "expected_loss"}
    assert result["srm"] == {"p_value": pytest.approx(1.0), "mismatch": False}


@pytest.mark.parametrize("example", [NEWSLETTER_EXAMPLE, AOV_EXAMPLE])
def test_documented_examples_equal_the_library(
    client: TestClient, admin_headers: Headers, example: dict[str, Any]
) -> None:
    response = client.post("/v1/stats/analyze", json=example, headers=admin_headers)
    assert response.status_code == 200, response.text
    options = {name: value for name, value in example.items() if name not in ("kind", "variants")}
    expected = stats.analyze(example["kind"], example["variants"], **options).to_dict()
    assert response.json() == expected


def test_options_are_passed_on(client: TestClient, sdk_headers: Headers) -> None:
    body = {
        **KNOWN,
        "alpha": 0.01,
        "alternative": "greater",
        "planned_units_per_variant": 64000,
        "correction": "bh",
        "prior": {"mean": 0, "sd": 0.1},
        "weights": [1, 1],
    }
    result = client.post("/v1/stats/analyze", json=body, headers=sdk_headers).json()
    assert result["alpha"] == 0.01
    assert result["comparisons"][0]["p_value"] == pytest.approx(0.0306 / 2, abs=5e-4)


def test_minimums_are_passed_on_and_validated(client: TestClient, sdk_headers: Headers) -> None:
    thin = {
        "kind": "proportion",
        "variants": [{"n": 1000, "conversions": 5}, {"n": 1000, "conversions": 0}],
    }
    default = client.post("/v1/stats/analyze", json=thin, headers=sdk_headers).json()
    assert default["comparisons"][0]["reason"] == "not_enough_data"
    assert default["comparisons"][0]["absolute"]["ci_low"] is None
    lowered = {**thin, "minimums": {"conversions": 5}}
    read = client.post("/v1/stats/analyze", json=lowered, headers=sdk_headers).json()
    assert read["comparisons"][0]["reason"] is None
    assert read["comparisons"][0]["absolute"]["ci_low"] is not None
    bad = {**thin, "minimums": {"conversions": -1}}
    problem = assert_problem(client.post("/v1/stats/analyze", json=bad, headers=sdk_headers), 422)
    assert "minimums" in str(problem)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "median"}, "kind"),
        ({"variants": [{"key": "a", "n": 10, "conversions": 1}]}, "variants"),
        (
            {
                "variants": [
                    {"key": "a", "n": 100, "conversions": 5},
                    {"key": "b", "n": 100, "conversions": 500},
                ]
            },
            "variants[1].conversions",
        ),
        (
            {
                "variants": [
                    {"key": "a", "n": 100, "conversions": -1},
                    {"key": "b", "n": 100, "conversions": 5},
                ]
            },
            "variants[0].conversions",
        ),
        ({"correction": "bonferroni"}, "correction"),
        ({"prior": {"mean": 0, "sd": 0}}, "prior.sd"),
        ({"speed": "fast"}, "speed"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, sdk_headers: Headers, change: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/stats/analyze", json={**KNOWN, **change}, headers=sdk_headers)
    assert_problem(response, 422, field)


def test_sample_size(client: TestClient, sdk_headers: Headers) -> None:
    body = {"baseline_rate": 0.025, "mde_relative": 0.1, "daily_units": 5000}
    fixed = {**body, "test": "fixed"}
    one_look = client.post("/v1/stats/sample-size", json=fixed, headers=sdk_headers).json()
    assert 63000 <= one_look["units_per_variant"] <= 65000 and one_look["test"] == "fixed"
    result = client.post("/v1/stats/sample-size", json=body, headers=sdk_headers).json()
    # By default: the sequential test that decides, about 1.9 times the one-look size.
    assert result["test"] == "sequential"
    assert 1.8 < result["units_per_variant"] / one_look["units_per_variant"] < 2.0
    assert result["total_units"] == 2 * result["units_per_variant"]
    assert result["days"] == -(-result["total_units"] // 5000)
    bad = client.post("/v1/stats/sample-size", json={"mde_relative": 0.1}, headers=sdk_headers)
    assert_problem(bad, 422)


def test_needs_a_key(client: TestClient) -> None:
    assert client.post("/v1/stats/analyze", json=KNOWN).status_code == 401


def test_openapi_has_examples(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["AnalyzeRequest"]["examples"][0]["kind"] == "proportion"
    assert "examples" in schemas["SampleSizeRequest"]


def test_sums_without_unit_counts_say_the_count_used(
    client: TestClient, sdk_headers: Headers
) -> None:
    """AOV sums pasted without `nonzero_units`: Kish's count of the orders, said per variant."""
    arm = {
        "n": 2000,
        "numerator_sum": 33000.0,
        "numerator_sum_squares": 9.1e7,
        "denominator_sum": 50.0,
        "denominator_sum_squares": 54.0,
        "cross_sum": 36000.0,
    }
    body = {"kind": "ratio", "variants": [arm, arm]}
    variants = client.post("/v1/stats/analyze", json=body, headers=sdk_headers).json()["variants"]
    assert variants[0]["effective_units"] == pytest.approx(50 * 50 / 54)
    assert variants[0]["effective_units_rule"] == "kish"
    counted = {**body, "variants": [{**arm, "nonzero_units": 48}] * 2}
    variants = client.post("/v1/stats/analyze", json=counted, headers=sdk_headers).json()[
        "variants"
    ]
    assert (variants[0]["effective_units"], variants[0]["effective_units_rule"]) == (
        48,
        "nonzero_units",
    )
