"""Item 7: any prior validation accepts and any extreme but valid count or sum gives finite
answers (or a StatsInputError naming the field); never another exception."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stats import StatsInputError, analyze, detectable_effect, sample_size
from tests.stats.helpers import assert_finite_floats

FINITE = st.floats(allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(min_value=5e-324, allow_nan=False, allow_infinity=False)
EXTREME = st.sampled_from([0.0, 5e-324, 1e-300, 1e-12, 1.0, 1e12, 1e150, 1e300, 1.7e308])


def _analyse(kind: str, variants: list[dict[str, Any]], **options: Any) -> None:
    try:
        result = analyze(kind, variants, **options)
    except StatsInputError as error:
        assert error.field and error.message
        return
    assert_finite_floats(result.to_dict())
    for comparison in result.comparisons:
        for interval in (comparison.absolute, comparison.sequential.absolute):
            if interval.ci_low is not None and interval.ci_high is not None:
                assert interval.ci_low <= interval.ci_high


@settings(max_examples=300, deadline=None)
@given(
    prior_mean=FINITE,
    prior_sd=POSITIVE,
    n=st.integers(2, 10**15),
    share=st.floats(0.0, 1.0),
    other=st.floats(0.0, 1.0),
)
def test_any_accepted_prior_and_any_counts_give_finite_answers(
    prior_mean: float, prior_sd: float, n: int, share: float, other: float
) -> None:
    """A tiny proper-prior sd (1e-200: its square underflows) used to raise ZeroDivisionError."""
    variants = [
        {"n": n, "conversions": int(n * share)},
        {"n": n // 2 + 2, "conversions": int((n // 2 + 2) * other)},
    ]
    _analyse("proportion", variants, prior={"mean": prior_mean, "sd": prior_sd})


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(2, 10**12),
    total=EXTREME,
    spread=EXTREME,
    sign=st.sampled_from([-1.0, 1.0]),
    prior_sd=st.sampled_from([None, 1e-300, 1e-150, 1.0, 1e300]),
    alternative=st.sampled_from(["two-sided", "greater", "less"]),
)
def test_extreme_mean_sums_give_finite_answers_or_name_the_field(
    n: int, total: float, spread: float, sign: float, prior_sd: float | None, alternative: str
) -> None:
    mean = sign * total / n
    squares = total * total / n + spread
    if not math.isfinite(squares):
        squares = 1.7e308
    control = {"n": n, "sum": sign * total, "sum_squares": squares, "nonzero_units": n}
    treatment = {"n": n, "sum": mean * n * 1.5, "sum_squares": squares * 2.25 + spread}
    prior = None if prior_sd is None else {"mean": 0.0, "sd": prior_sd}
    _analyse("mean", [control, treatment], prior=prior, alternative=alternative)


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(2, 10**9),
    numerator=EXTREME,
    denominator=EXTREME,
    correlation=st.floats(-1.0, 1.0),
    nonzero=st.integers(0, 10**9),
)
def test_extreme_ratio_sums_give_finite_answers_or_name_the_field(
    n: int, numerator: float, denominator: float, correlation: float, nonzero: int
) -> None:
    def arm(scale: float) -> dict[str, Any]:
        num, den = numerator * scale, denominator * scale
        num_sq = min(num * num / n * 2.0, 1.7e308)
        den_sq = min(den * den / n * 2.0, 1.7e308)
        spread = math.sqrt(max(num_sq - num * num / n, 0.0) * max(den_sq - den * den / n, 0.0))
        cross = num * den / n + correlation * spread
        return {
            "n": n,
            "numerator_sum": num,
            "numerator_sum_squares": num_sq,
            "denominator_sum": den,
            "denominator_sum_squares": den_sq,
            "cross_sum": cross if math.isfinite(cross) else 0.0,
            "nonzero_units": min(nonzero, n),
        }

    _analyse("ratio", [arm(1.0), arm(0.5)], minimums={"conversions": 0, "units": 0})


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(1e-300, 1.0, exclude_max=True),
    mde=POSITIVE,
    power=st.floats(0.01, 0.99),
    alpha=st.floats(1e-12, 0.5),
    variants=st.integers(2, 50),
    test=st.sampled_from(["sequential", "fixed"]),
)
def test_sample_size_is_finite_or_names_the_field(
    rate: float, mde: float, power: float, alpha: float, variants: int, test: str
) -> None:
    options: dict[str, Any] = {"alpha": alpha, "power": power, "variants": variants, "test": test}
    try:
        size = sample_size(baseline_rate=rate, mde_relative=mde, **options)
    except StatsInputError as error:
        assert error.field in {"mde_relative", "baseline_rate"}
        return
    assert 1 <= size.units_per_variant and size.total_units == size.units_per_variant * variants
    back = detectable_effect(
        baseline_rate=rate, units_per_variant=max(size.units_per_variant, 2), **options
    )
    assert_finite_floats(back.to_dict())
