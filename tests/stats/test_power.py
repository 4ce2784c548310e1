"""Sample size, detectable effect and duration, checked against statsmodels."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower, zt_ind_solve_power
from statsmodels.stats.proportion import proportion_effectsize

from stats import StatsInputError, days_to_run, detectable_effect, sample_size


def test_worked_example_from_the_product_brief() -> None:
    result = sample_size(
        baseline_rate=0.025, mde_relative=0.10, alpha=0.05, power=0.8, test="fixed"
    )
    assert result.units_per_variant == pytest.approx(64_000, rel=0.01)
    assert result.total_units == 2 * result.units_per_variant
    assert result.to_dict() == {
        "units_per_variant": result.units_per_variant,
        "total_units": result.total_units,
        "days": None,
        "test": "fixed",
    }


def test_the_default_plan_is_for_the_sequential_test_that_decides() -> None:
    """At the planned size the tuned mixture's boundary is 3.04 standard errors (alpha 0.05):
    the size is (3.04 + z_power)^2 / (1.96 + z_power)^2, about 1.9 times the fixed one."""
    fixed = sample_size(baseline_rate=0.025, mde_relative=0.10, test="fixed").units_per_variant
    planned = sample_size(baseline_rate=0.025, mde_relative=0.10)
    assert planned.test == "sequential" and planned.to_dict()["test"] == "sequential"
    z_power = 0.8416212335729143
    ratio = ((3.0352 + z_power) / (1.959964 + z_power)) ** 2
    assert planned.units_per_variant == pytest.approx(fixed * ratio, rel=1e-3)
    back = detectable_effect(baseline_rate=0.025, units_per_variant=planned.units_per_variant)
    assert back.mde_relative == pytest.approx(0.10, rel=1e-3)
    with pytest.raises(StatsInputError) as caught:
        sample_size(baseline_rate=0.025, mde_relative=0.10, test="bayesian")
    assert caught.value.field == "test"


def test_rate_agrees_with_statsmodels_arcsine_power() -> None:
    ours = sample_size(baseline_rate=0.025, mde_relative=0.10, test="fixed").units_per_variant
    effect = proportion_effectsize(0.0275, 0.025)
    theirs = NormalIndPower().solve_power(effect_size=effect, alpha=0.05, power=0.8, ratio=1.0)
    assert ours == pytest.approx(theirs, rel=0.01)


@settings(max_examples=50, deadline=None)
@given(
    mean=st.floats(1.0, 1000.0),
    cv=st.floats(1.0, 5.0),
    mde=st.floats(0.01, 0.3),
    power=st.floats(0.6, 0.95),
)
def test_mean_matches_statsmodels_z_test(mean: float, cv: float, mde: float, power: float) -> None:
    sd = mean * cv
    ours = sample_size(
        baseline_mean=mean, baseline_sd=sd, mde_relative=mde, power=power, test="fixed"
    )
    theirs = zt_ind_solve_power(effect_size=mde * mean / sd, alpha=0.05, power=power, ratio=1.0)
    # statsmodels also counts the far tail; the difference is far below one unit in a thousand.
    assert ours.units_per_variant == pytest.approx(theirs, rel=2e-3, abs=2)


@settings(max_examples=50, deadline=None)
@given(rate=st.floats(0.005, 0.5), mde=st.floats(0.02, 0.5), variants=st.integers(2, 5))
def test_detectable_effect_inverts_sample_size(rate: float, mde: float, variants: int) -> None:
    size = sample_size(baseline_rate=rate, mde_relative=mde, variants=variants)
    back = detectable_effect(
        baseline_rate=rate, units_per_variant=size.units_per_variant, variants=variants
    )
    one_fewer = detectable_effect(
        baseline_rate=rate, units_per_variant=size.units_per_variant - 1, variants=variants
    )
    # units_per_variant is the smallest size whose detectable effect reaches mde.
    assert back.mde_relative <= mde * (1 + 1e-9)
    assert one_fewer.mde_relative > mde * (1 - 1e-9)


def test_more_variants_need_more_units_and_days_follow_traffic() -> None:
    two = sample_size(baseline_rate=0.03, mde_relative=0.1)
    four = sample_size(baseline_rate=0.03, mde_relative=0.1, variants=4, daily_units=5000)
    assert four.units_per_variant > two.units_per_variant
    assert four.days == math.ceil(four.total_units / 5000)
    assert days_to_run(1000, 2, 300) == 7


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"baseline_rate": 1.5, "mde_relative": 0.1}, "baseline_rate"),
        ({"baseline_rate": 0.02, "mde_relative": -0.1}, "mde_relative"),
        ({"baseline_mean": 10.0, "mde_relative": 0.1}, "baseline_rate"),
        ({"baseline_rate": 0.02, "mde_relative": 0.1, "power": 1.0}, "power"),
        ({"baseline_rate": 0.02, "mde_relative": 0.1, "variants": 1}, "variants"),
        ({"baseline_rate": 0.02, "mde_relative": 0.1, "daily_units": 0}, "daily_units"),
    ],
)
def test_bad_planning_input_names_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(StatsInputError) as caught:
        sample_size(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    "kwargs",
    [
        {"baseline_rate": 0.5, "mde_relative": 1e-300},
        {"baseline_mean": 1e-300, "baseline_sd": 1e300, "mde_relative": 0.1},
    ],
)
def test_an_effect_too_small_to_detect_is_an_input_error(kwargs: dict[str, float]) -> None:
    """Used to raise ZeroDivisionError when the squared difference underflowed to 0."""
    with pytest.raises(StatsInputError) as caught:
        sample_size(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == "mde_relative"


def test_a_keyword_outside_the_design_is_refused() -> None:
    with pytest.raises(TypeError, match="alhpa"):
        sample_size(mde_relative=0.1, baseline_rate=0.1, alhpa=0.1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="daily_units"):
        detectable_effect(units_per_variant=100, baseline_rate=0.1, daily_units=9)  # type: ignore[call-arg]
