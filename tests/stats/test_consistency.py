"""Item 3: `significant` reads the same from the p-value, the absolute and the relative interval."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from stats import Interval, Reason, analyze
from tests.stats.helpers import assert_finite_floats


def _excludes_zero(interval: Interval) -> bool:
    return interval.excludes(0.0)


def _proportion_sums(draw: st.DrawFn, n: int) -> dict[str, float]:
    return {"conversions": draw(st.integers(0, n))}


def _mean_sums(draw: st.DrawFn, n: int) -> dict[str, float]:
    mean = draw(st.floats(-50.0, 50.0))
    sd = draw(st.floats(0.0, 30.0))
    total = mean * n
    return {"sum": total, "sum_squares": total * mean + sd * sd * (n - 1)}


def _ratio_sums(draw: st.DrawFn, n: int) -> dict[str, float]:
    """Per-unit numerator and denominator moments with a correlation inside (-1, 1)."""
    # Spreads are 0 or clearly positive: a minute spread next to a large mean is lost to
    # rounding in the sums, and the cross sum then looks like a correlation beyond +-1.
    mean_x, sd_x = draw(st.floats(0.01, 5.0)), draw(st.just(0.0) | st.floats(0.01, 3.0))
    mean_y, sd_y = draw(st.floats(-500.0, 500.0)), draw(st.just(0.0) | st.floats(0.01, 300.0))
    correlation = draw(st.floats(-0.99, 0.99))
    return {
        "numerator_sum": n * mean_y,
        "numerator_sum_squares": n * mean_y * mean_y + (n - 1) * sd_y * sd_y,
        "denominator_sum": n * mean_x,
        "denominator_sum_squares": n * mean_x * mean_x + (n - 1) * sd_x * sd_x,
        "cross_sum": n * mean_x * mean_y + (n - 1) * correlation * sd_x * sd_y,
    }


@st.composite
def _variants(
    draw: st.DrawFn,
    most: int,
    largest_n: int,
    sums: Callable[[st.DrawFn, int], dict[str, float]],
) -> list[dict[str, Any]]:
    """2 to `most` variants, each of 2 to `largest_n` units with the sums `sums` draws."""
    variants = []
    for _ in range(draw(st.integers(2, most))):
        n = draw(st.integers(2, largest_n))
        variants.append({"n": n, **sums(draw, n)})
    return variants


ANY_VARIANTS = st.one_of(
    _variants(4, 50_000, _proportion_sums),
    _variants(3, 10_000, _mean_sums),
    _variants(3, 10_000, _ratio_sums),
)


def _kind(variants: list[dict[str, Any]]) -> str:
    if "conversions" in variants[0]:
        return "proportion"
    return "ratio" if "cross_sum" in variants[0] else "mean"


WITHHELD = {Reason.NOT_ENOUGH_DATA, Reason.ZERO_VARIANCE, Reason.NO_CONVERSIONS}


@settings(max_examples=300, deadline=None)
@given(
    variants=ANY_VARIANTS,
    alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
    correction=st.sampled_from(["none", "holm", "bh"]),
    minimums=st.sampled_from([None, {"conversions": 0, "units": 0}]),
)
def test_p_value_and_both_intervals_agree(
    variants: list[dict[str, Any]],
    alpha: float,
    alternative: str,
    correction: str,
    minimums: dict[str, int] | None,
) -> None:
    """With any number of arms and any correction: the adjusted p-value, `significant` and both
    intervals tell the same story, in the fixed and in the sequential reading; a comparison
    without a reading has no interval bounds at all (never a zero-width interval)."""
    result = analyze(
        _kind(variants),
        variants,
        alpha=alpha,
        alternative=alternative,
        correction=correction,
        minimums=minimums,
    )
    for comparison in result.comparisons:
        if comparison.p_value is None:
            assert comparison.reason in WITHHELD or comparison.reason is Reason.DENOMINATOR_ZERO
            assert not comparison.significant and not comparison.sequential.significant
            for interval in (comparison.absolute, comparison.sequential.relative):
                assert interval.ci_low is None and interval.ci_high is None
            continue
        adjusted = comparison.p_value_adjusted
        assert adjusted is not None and adjusted >= comparison.p_value * (1 - 1e-12)
        # Skip knife-edge cases where rounding can fall on either side of alpha.
        assume(not math.isclose(adjusted, alpha, rel_tol=1e-6))
        from_p = adjusted < alpha
        assert comparison.significant == from_p
        assert _excludes_zero(comparison.absolute) == from_p
        _assert_not_a_point(comparison.absolute)
        relative = comparison.relative
        if relative.ci_low is not None or relative.ci_high is not None:
            assert relative.excludes(0.0) == from_p

        sequential = comparison.sequential
        assert sequential.p_value is not None and sequential.p_value_adjusted is not None
        assume(not math.isclose(sequential.p_value_adjusted, alpha, rel_tol=1e-6))
        assert sequential.significant == (sequential.p_value_adjusted < alpha)
        assert _excludes_zero(sequential.absolute) == sequential.significant
        if sequential.relative.ci_low is not None or sequential.relative.ci_high is not None:
            assert sequential.relative.excludes(0.0) == sequential.significant


def _assert_not_a_point(interval: Interval) -> None:
    if interval.ci_low is not None and interval.ci_high is not None:
        assert interval.ci_low < interval.ci_high


@settings(max_examples=200, deadline=None)
@given(
    variants=ANY_VARIANTS,
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
)
def test_every_float_in_json_is_finite_or_null(
    variants: list[dict[str, Any]], alternative: str
) -> None:
    options: dict[str, Any] = {"alternative": alternative, "prior": {"mean": 0.0, "sd": 0.1}}
    assert_finite_floats(analyze(_kind(variants), variants, **options).to_dict())
