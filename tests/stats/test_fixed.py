"""Fixed-horizon Welch test against scipy on raw samples, and known values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from stats import Reason, analyze
from tests.stats.helpers import mean_stats, proportion_stats

# The formulas are checked down to tiny samples, below the default minimums.
EVERY_SAMPLE = {"conversions": 0, "units": 0}


def test_known_proportion_values() -> None:
    result = analyze(
        "proportion",
        [
            {"key": "control", "n": 10000, "conversions": 250},
            {"key": "b", "n": 10000, "conversions": 300},
        ],
    )
    comparison = result.comparisons[0]
    assert comparison.p_value == pytest.approx(0.0306, abs=5e-4)
    assert comparison.absolute.ci_low == pytest.approx(0.00047, abs=1e-5)
    assert comparison.absolute.ci_high == pytest.approx(0.00953, abs=1e-5)
    assert comparison.relative.estimate == pytest.approx(0.2)
    assert comparison.significant
    assert comparison.reason is None


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_control=st.integers(5, 400),
    n_treatment=st.integers(5, 400),
    shift=st.floats(-1.0, 1.0),
    scale=st.floats(0.1, 10.0),
)
def test_mean_matches_scipy_welch_on_raw_samples(
    alternative: str, seed: int, n_control: int, n_treatment: int, shift: float, scale: float
) -> None:
    rng = np.random.default_rng(seed)
    control = rng.normal(10.0, 2.0, n_control)
    treatment = rng.normal(10.0 + shift, 2.0 * scale, n_treatment)
    result = analyze(
        "mean",
        [mean_stats(control, "a"), mean_stats(treatment, "b")],
        alternative=alternative,
        minimums=EVERY_SAMPLE,
    )
    expected = scipy_stats.ttest_ind(treatment, control, equal_var=False, alternative=alternative)
    comparison = result.comparisons[0]
    assert comparison.p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-12)
    interval = expected.confidence_interval(0.95)
    for ours, theirs in (
        (comparison.absolute.ci_low, interval.low),
        (comparison.absolute.ci_high, interval.high),
    ):
        if np.isfinite(theirs):
            assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-9)
        else:
            assert ours is None


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate_control=st.floats(0.01, 0.5),
    rate_treatment=st.floats(0.01, 0.5),
)
def test_proportion_matches_scipy_welch_on_raw_bernoulli(
    seed: int, rate_control: float, rate_treatment: float
) -> None:
    rng = np.random.default_rng(seed)
    control = (rng.random(2000) < rate_control).astype(float)
    treatment = (rng.random(1500) < rate_treatment).astype(float)
    result = analyze(
        "proportion", [proportion_stats(control, "a"), proportion_stats(treatment, "b")]
    )
    expected = scipy_stats.ttest_ind(treatment, control, equal_var=False)
    assert result.comparisons[0].p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize(
    "treatment",
    [
        {"n": 10, "sum": 60.0, "sum_squares": 360.0},  # constant too: no spread anywhere
        {"n": 10, "sum": 60.0, "sum_squares": 400.0},  # the control alone has no spread
    ],
)
def test_zero_estimated_spread_gives_no_certainty(treatment: dict[str, float]) -> None:
    """Every order the same value (one order, say) used to read as a difference known exactly."""
    control = {"n": 10, "sum": 50.0, "sum_squares": 250.0}
    comparison = analyze("mean", [control, treatment], minimums=EVERY_SAMPLE).comparisons[0]
    assert comparison.reason is Reason.ZERO_VARIANCE
    assert comparison.p_value is None and not comparison.significant
    assert comparison.absolute.estimate == pytest.approx(1.0)
    assert comparison.absolute.ci_low is None and comparison.absolute.ci_high is None
    assert comparison.relative.estimate == pytest.approx(0.2)
    assert comparison.relative.ci_low is None and comparison.relative.ci_high is None
    assert not comparison.sequential.significant and comparison.sequential.p_value is None
    assert comparison.bayesian.chance_to_beat is None


def test_spread_lost_to_rounding_counts_as_zero() -> None:
    """Constant values whose sums leave a rounding-sized variance are not a certain difference."""
    value, n = 0.1, 7
    constant = {"n": n, "sum": value * n, "sum_squares": value * value * n * (1 + 1e-15)}
    other = {"n": n, "sum": 0.2 * n, "sum_squares": 0.04 * n * (1 + 1e-15)}
    comparison = analyze("mean", [constant, other], minimums=EVERY_SAMPLE).comparisons[0]
    assert comparison.reason is Reason.ZERO_VARIANCE and not comparison.significant


def test_one_sided_interval_is_open_on_the_untested_side() -> None:
    variants = [{"n": 1000, "conversions": 100}, {"n": 1000, "conversions": 130}]
    greater = analyze("proportion", variants, alternative="greater").comparisons[0]
    less = analyze("proportion", variants, alternative="less").comparisons[0]
    assert greater.absolute.ci_high is None and greater.absolute.ci_low is not None
    assert less.absolute.ci_low is None and less.absolute.ci_high is not None
    assert greater.p_value is not None and less.p_value is not None
    assert greater.p_value + less.p_value == pytest.approx(1.0)


@pytest.mark.parametrize("scale", [1e-90, 1e90])
def test_p_value_does_not_depend_on_the_unit_of_the_metric(scale: float) -> None:
    """Squared variances used to underflow (normal tail, wrong p) or overflow (OverflowError)."""
    rng = np.random.default_rng(17)
    control, treatment = rng.normal(10.0, 2.0, 8), rng.normal(12.0, 5.0, 6)
    unscaled = analyze(
        "mean", [mean_stats(control, "a"), mean_stats(treatment, "b")], minimums=EVERY_SAMPLE
    )
    scaled = analyze(
        "mean",
        [mean_stats(control * scale, "a"), mean_stats(treatment * scale, "b")],
        minimums=EVERY_SAMPLE,
    )
    expected = scipy_stats.ttest_ind(treatment, control, equal_var=False).pvalue
    assert unscaled.comparisons[0].p_value == pytest.approx(expected, rel=1e-9)
    assert scaled.comparisons[0].p_value == pytest.approx(expected, rel=1e-6)
