"""`analyze` as the API sees it: validation errors, degenerate data, JSON shape, coverage."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import stats
from stats import Reason, StatsInputError, analyze
from tests.stats.helpers import SEQUENTIAL_READING_KEYS

PROPORTIONS = [
    {"key": "control", "n": 1000, "conversions": 30},
    {"key": "b", "n": 1000, "conversions": 40},
]


@pytest.mark.parametrize(
    ("kind", "variants", "options", "field", "message"),
    [
        (
            "proportion",
            [{"n": 10, "conversions": 11}, {"n": 10, "conversions": 1}],
            {},
            "variants[0].conversions",
            "variants[0].conversions must be <= n",
        ),
        (
            "proportion",
            [{"n": 10, "conversions": 1}, {"n": -5, "conversions": 1}],
            {},
            "variants[1].n",
            "variants[1].n must be >= 0",
        ),
        (
            "proportion",
            [{"n": 10, "conversions": 1}, {"n": 1, "conversions": 0}],
            {},
            "variants[1].n",
            "variants[1].n must be >= 2 units",
        ),
        ("proportion", [{"n": 10, "conversions": 1}], {}, "variants", "at least two variants"),
        (
            "proportion",
            [{"n": 10, "conversions": 1}, {"n": 10}],
            {},
            "variants[1].conversions",
            "is required",
        ),
        (
            "proportion",
            [{"n": 10, "conversions": 1}, {"n": 10, "conversion": 1}],
            {},
            "variants[1].conversion",
            "is not a field of kind proportion",
        ),
        (
            "mean",
            [
                {"n": 10, "sum": 100.0, "sum_squares": 10.0},
                {"n": 10, "sum": 1.0, "sum_squares": 1.0},
            ],
            {},
            "variants[0].sum_squares",
            "negative variance",
        ),
        (
            "mean",
            [
                {"n": 10, "sum": float("nan"), "sum_squares": 1.0},
                {"n": 10, "sum": 1.0, "sum_squares": 1.0},
            ],
            {},
            "variants[0].sum",
            "must be finite",
        ),
        (
            "ratio",
            [
                {
                    "key": "same",
                    "n": 4,
                    "numerator_sum": 4.0,
                    "numerator_sum_squares": 4.0,
                    "denominator_sum": 4.0,
                    "denominator_sum_squares": 4.0,
                    "cross_sum": 4.0,
                }
            ]
            * 2,
            {},
            "variants[1].key",
            "duplicates",
        ),
        ("median", PROPORTIONS, {}, "kind", "kind must be one of"),
        ("proportion", PROPORTIONS, {"alpha": 1.5}, "alpha", "strictly between 0 and 1"),
        ("proportion", PROPORTIONS, {"alternative": "bigger"}, "alternative", "must be one of"),
        ("proportion", PROPORTIONS, {"correction": "bonferroni"}, "correction", "must be one of"),
        ("proportion", PROPORTIONS, {"prior": {"mean": 0.0, "sd": 0.0}}, "prior.sd", "must be > 0"),
        ("proportion", PROPORTIONS, {"weights": [1.0]}, "weights", "one weight per variant"),
        ("proportion", PROPORTIONS, {"weights": [1.0, -1.0]}, "weights[1]", "must be a number > 0"),
        (
            "proportion",
            PROPORTIONS,
            {"planned_units_per_variant": 0},
            "planned_units_per_variant",
            ">= 2",
        ),
        (
            "proportion",
            [
                {
                    **PROPORTIONS[0],
                    "covariate_sum": 1.0,
                    "covariate_sum_squares": 1.0,
                    "covariate_cross_sum": 1.0,
                },
                PROPORTIONS[1],
            ],
            {},
            "variants[1].covariate_sum",
            "every variant or in none",
        ),
    ],
)
def test_bad_input_names_the_field_and_the_rule(
    kind: str, variants: list[dict[str, Any]], options: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(StatsInputError) as caught:
        analyze(kind, variants, **options)
    assert caught.value.field == field
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_no_conversions_anywhere_is_a_defined_result_with_a_reason() -> None:
    result = analyze("proportion", [{"n": 500, "conversions": 0}, {"n": 500, "conversions": 0}])
    comparison = result.comparisons[0]
    assert comparison.reason is Reason.NO_CONVERSIONS
    assert comparison.p_value is None and not comparison.significant
    data = comparison.to_dict()
    assert data["reason"] == "no_conversions"
    assert data["absolute"] == {"estimate": 0.0, "ci_low": None, "ci_high": None}
    assert data["relative"] == {"estimate": None, "ci_low": None, "ci_high": None}
    assert data["bayesian"] == {"chance_to_beat": None, "expected_loss": None}
    assert not data["sequential"]["significant"]


def test_a_handful_of_conversions_is_not_enough_data() -> None:
    """0/1000 against 5/1000 once read as a certain -100 %; now it is "not enough data yet"."""
    comparison = analyze(
        "proportion", [{"n": 1000, "conversions": 5}, {"n": 1000, "conversions": 0}]
    ).comparisons[0]
    assert comparison.reason is Reason.NOT_ENOUGH_DATA
    assert not comparison.significant and not comparison.sequential.significant
    assert comparison.relative.estimate == pytest.approx(-1.0)
    assert comparison.relative.ci_low is None and comparison.relative.ci_high is None
    assert comparison.absolute.estimate == pytest.approx(-0.005)
    assert comparison.bayesian.chance_to_beat is None


def test_minimums_are_configurable_and_validated() -> None:
    variants = [{"n": 1000, "conversions": 5}, {"n": 1000, "conversions": 0}]
    comparison = analyze("proportion", variants, minimums={"conversions": 5}).comparisons[0]
    assert comparison.reason is None
    assert comparison.absolute.ci_low is not None and comparison.absolute.ci_high is not None
    assert comparison.absolute.ci_low < comparison.absolute.ci_high
    for bad, field in (
        ({"conversions": -1}, "minimums.conversions"),
        ({"units": 2.5}, "minimums.units"),
        ({"orders": 3}, "minimums.orders"),
    ):
        with pytest.raises(StatsInputError) as caught:
            analyze("proportion", variants, minimums=bad)
        assert caught.value.field == field


def test_boundary_counts_get_the_agresti_caffo_interval_and_a_matching_relative_one() -> None:
    """12/1000 against 0/1000: one success and one failure added to each arm, Wald on those."""
    comparison = analyze(
        "proportion", [{"n": 1000, "conversions": 12}, {"n": 1000, "conversions": 0}]
    ).comparisons[0]
    control, treatment = 13 / 1002, 1 / 1002
    se = np.sqrt(control * (1 - control) / 1002 + treatment * (1 - treatment) / 1002)
    difference = treatment - control
    assert comparison.absolute.estimate == pytest.approx(difference)
    assert comparison.absolute.ci_low == pytest.approx(difference - 1.959964 * se, rel=1e-5)
    assert comparison.absolute.ci_high == pytest.approx(difference + 1.959964 * se, rel=1e-5)
    # The relative interval is Fieller's on the same estimates: never the collapsed -100 %.
    relative = comparison.relative
    assert relative.ci_low is not None and relative.ci_high is not None
    assert relative.estimate is not None
    assert -1.0 <= relative.ci_low < relative.estimate < relative.ci_high < 0.0
    assert comparison.significant and relative.excludes(0.0)
    assert 0.0 < (comparison.bayesian.chance_to_beat or 0.0) < 0.01


def test_control_without_conversions_reports_the_missing_relative_uplift() -> None:
    comparison = analyze(
        "proportion", [{"n": 500, "conversions": 0}, {"n": 500, "conversions": 4}]
    ).comparisons[0]
    assert comparison.reason is Reason.NOT_ENOUGH_DATA
    assert comparison.relative.estimate is None
    assert comparison.absolute.estimate == pytest.approx(0.008)


def test_to_dict_has_exactly_the_documented_shape() -> None:
    data = analyze("proportion", PROPORTIONS, planned_units_per_variant=5000).to_dict()
    assert set(data) == {"kind", "alpha", "variants", "srm", "comparisons"}
    assert data["variants"] == [
        {"key": "control", "n": 1000, "mean": 0.03},
        {"key": "b", "n": 1000, "mean": 0.04},
    ]
    assert set(data["srm"]) == {"p_value", "mismatch"}
    (comparison,) = data["comparisons"]
    assert set(comparison) == {
        "variant",
        "baseline",
        "absolute",
        "relative",
        "p_value",
        "p_value_adjusted",
        "significant",
        "sequential",
        "bayesian",
        "reason",
    }
    assert set(comparison["sequential"]) == SEQUENTIAL_READING_KEYS
    assert set(comparison["absolute"]) == {"estimate", "ci_low", "ci_high"}
    assert comparison["p_value_adjusted"] == comparison["p_value"]


def test_public_surface_is_curated() -> None:
    assert {"analyze", "sample_size", "detectable_effect", "days_to_run", "StatsInputError"} <= set(
        stats.__all__
    )
    assert all(hasattr(stats, name) for name in stats.__all__)


def test_sums_of_daily_aggregates_give_the_same_analysis() -> None:
    monday = stats.ProportionStats(400, 10)
    tuesday = stats.ProportionStats(600, 20)
    total = monday + tuesday
    assert (total.n, total.conversions) == (1000, 30)
    means = stats.MeanStats(3, 6.0, 14.0) + stats.MeanStats(2, 4.0, 10.0)
    assert means.mean == pytest.approx(2.0) and means.variance == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_intervals_cover_the_true_difference(kind: str) -> None:
    rng = np.random.default_rng(99)
    runs = 600
    covered_absolute = covered_relative = 0
    for _ in range(runs):
        variants: list[dict[str, Any]]
        if kind == "proportion":
            counts = rng.binomial(3000, [0.04, 0.05])
            variants = [{"n": 3000, "conversions": int(c)} for c in counts]
            truth_abs, truth_rel = 0.01, 0.25
        else:
            samples = [rng.exponential(100.0, 500), rng.exponential(110.0, 500)]
            variants = [
                {"n": 500, "sum": float(s.sum()), "sum_squares": float((s * s).sum())}
                for s in samples
            ]
            truth_abs, truth_rel = 10.0, 0.1
        comparison = analyze(kind, variants).comparisons[0]
        covered_absolute += not comparison.absolute.excludes(truth_abs)
        covered_relative += not comparison.relative.excludes(truth_rel)
    assert covered_absolute / runs == pytest.approx(0.95, abs=0.025)
    assert covered_relative / runs == pytest.approx(0.95, abs=0.025)
