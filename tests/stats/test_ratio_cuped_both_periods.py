"""CUPED for a ratio with both pre-periods: the two-covariate regression adjustment of the
delta-method linearisation, against statsmodels OLS on the pseudo-values."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

from benchmarks.sim_cuped import aov_sums, reductions, shop_arm
from stats import StatsInputError, analyze
from tests.stats.helpers import assert_finite_floats


def test_two_covariate_cuped_matches_ols_on_the_pseudo_values() -> None:
    rng = np.random.default_rng(31)
    arms = [shop_arm(rng, 8000) for _ in range(2)]
    comparison = analyze("ratio", [aov_sums(arm, both=True) for arm in arms]).comparisons[0]
    pseudo, treated, before, orders_before = [], [], [], []
    for index, arm in enumerate(arms):
        revenue, orders = arm["revenue"], arm["orders"]
        ratio = revenue.sum() / orders.sum()
        pseudo.append(ratio + (revenue - ratio * orders) / orders.mean())
        treated.append(np.full(revenue.size, float(index)))
        before.append(arm["revenue_before"])
        orders_before.append(arm["orders_before"])
    columns = [np.concatenate(values) for values in (treated, before, orders_before)]
    fit = OLS(np.concatenate(pseudo), add_constant(np.column_stack(columns))).fit()
    assert comparison.absolute.estimate == pytest.approx(fit.params[1], rel=1e-8)
    assert comparison.absolute.ci_high is not None and comparison.absolute.estimate is not None
    se = (comparison.absolute.ci_high - comparison.absolute.estimate) / 1.96
    # Welch-type per-arm variances against OLS's pooled one, on equal arms: close.
    assert se == pytest.approx(fit.bse[1], rel=0.03)
    assert comparison.cuped is not None and comparison.cuped.variance_reduction > 0


def test_both_pre_periods_at_least_double_the_variance_reduction_on_aov() -> None:
    one, two, _ = reductions(6, 8000, seed=32)
    assert np.median(two) >= 2 * np.median(one) > 0


def test_a_constant_second_covariate_falls_back_to_the_first() -> None:
    rng = np.random.default_rng(33)
    arms = [shop_arm(rng, 2000) for _ in range(2)]
    for arm in arms:
        arm["orders_before"] = np.zeros(2000)
    both = analyze("ratio", [aov_sums(arm, both=True) for arm in arms]).comparisons[0]
    first = analyze("ratio", [aov_sums(arm, both=False) for arm in arms]).comparisons[0]
    assert both.absolute == first.absolute


def test_the_pre_period_denominator_comes_in_every_variant_or_none() -> None:
    rng = np.random.default_rng(34)
    arms = [shop_arm(rng, 500) for _ in range(2)]
    with pytest.raises(StatsInputError) as caught:
        analyze("ratio", [aov_sums(arms[0], both=True), aov_sums(arms[1], both=False)])
    assert caught.value.field == "variants[1].pre_denominator_sum"
    partial = aov_sums(arms[0], both=True)
    del partial["covariate_pre_denominator_cross_sum"]
    with pytest.raises(StatsInputError) as caught:
        analyze("ratio", [partial, aov_sums(arms[1], both=True)])
    assert caught.value.field == "variants[0].covariate_pre_denominator_cross_sum"
    with pytest.raises(StatsInputError) as caught:
        analyze("mean", [{"n": 5, "sum": 1, "sum_squares": 1, "pre_denominator_sum": 1}] * 2)
    assert caught.value.field == "variants[0].pre_denominator_sum"


@pytest.mark.parametrize("scale", [1e-120, 1e-3, 1e3, 1e70])
def test_two_covariate_cuped_does_not_depend_on_the_unit_of_the_sums(scale: float) -> None:
    """Revenue in tiny or huge units: the same p-value and reduction, every float finite."""
    rng = np.random.default_rng(35)
    arms = [shop_arm(rng, 3000) for _ in range(2)]
    plain = analyze("ratio", [aov_sums(arm, both=True) for arm in arms])
    for arm in arms:
        arm["revenue"] = arm["revenue"] * scale
        arm["revenue_before"] = arm["revenue_before"] * scale
    scaled = analyze("ratio", [aov_sums(arm, both=True) for arm in arms])
    assert_finite_floats(scaled.to_dict())
    before, after = plain.comparisons[0], scaled.comparisons[0]
    assert after.p_value == pytest.approx(before.p_value, rel=1e-6)
    assert after.cuped is not None and before.cuped is not None
    assert after.cuped.variance_reduction == pytest.approx(
        before.cuped.variance_reduction, rel=1e-6, abs=1e-9
    )
