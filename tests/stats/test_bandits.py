"""Bandit statistics against numpy and scipy on raw simulated units, and by their properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special
from scipy import stats as scipy_stats

from stats.bandits import (
    ArmEstimate,
    ArmPeriodSums,
    arm_estimates,
    floor_is_feasible,
    gain_over_equal_split,
    period_srm_p_values,
    probability_best,
    top_two_thompson_weights,
)
from stats.errors import StatsInputError
from tests.stats.helpers import FloatArray


def _sums(values: FloatArray) -> ArmPeriodSums:
    return ArmPeriodSums(int(values.size), float(values.sum()), float((values * values).sum()))


def _raw_campaign(seed: int, *, revenue: bool) -> list[list[FloatArray]]:
    """Raw per-unit values, periods x arms, with shares and baselines that move by period."""
    rng = np.random.default_rng(seed)
    periods: list[list[FloatArray]] = []
    for period in range(6):
        shares = rng.dirichlet(np.ones(4))
        counts = rng.multinomial(int(rng.integers(800, 3000)), shares)
        baseline = 0.02 + 0.01 * period
        if revenue:
            periods.append(
                [(rng.random(n) < baseline) * rng.lognormal(6.0, 0.8, n) for n in counts]
            )
        else:
            periods.append([(rng.random(n) < baseline).astype(np.float64) for n in counts])
    return periods


@pytest.mark.parametrize("revenue", [False, True])
def test_period_weighted_estimates_match_numpy_on_raw_units(revenue: bool) -> None:
    raw = _raw_campaign(3, revenue=revenue)
    estimates = arm_estimates([[_sums(values) for values in period] for period in raw])
    period_units = np.array([sum(values.size for values in period) for period in raw])
    shares = period_units / period_units.sum()
    for arm, estimate in enumerate(estimates):
        means = np.array([period[arm].mean() for period in raw])
        variances = np.array([period[arm].var() / period[arm].size for period in raw])
        assert estimate.mean == pytest.approx(float(shares @ means), rel=1e-12)
        assert estimate.standard_error == pytest.approx(
            math.sqrt(float(shares**2 @ variances)), rel=1e-9
        )
        assert estimate.units == sum(period[arm].size for period in raw)


def test_period_weighted_standard_errors_are_calibrated_on_raw_units() -> None:
    """Over repeated campaigns with moving shares and rates, (estimate - truth) / standard error
    is close to a standard normal; the truth weights each period's true rate by its share."""
    rng = np.random.default_rng(11)
    shares = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2]])
    visitors = np.array([4000, 9000, 6000, 3000])
    rates = np.array([0.02, 0.05, 0.03, 0.04])
    truth = float(visitors @ rates / visitors.sum())
    scores = []
    for _ in range(400):
        units = np.rint(shares * visitors[:, None]).astype(int)
        clicks = rng.binomial(units, rates[:, None])
        periods = [
            [ArmPeriodSums(int(n), float(c), float(c)) for n, c in zip(row, hits, strict=True)]
            for row, hits in zip(units, clicks, strict=True)
        ]
        scores += [(e.mean - truth) / e.standard_error for e in arm_estimates(periods)]
    z = np.array(scores)
    assert abs(z.mean()) < 0.1
    assert 0.93 < z.std() < 1.07
    assert abs(np.mean(np.abs(z) < 1.96) - 0.95) < 3 * math.sqrt(0.05 * 0.95 / z.size)


def test_two_arm_probability_best_is_the_exact_normal_one() -> None:
    estimates = [ArmEstimate(0.031, 0.002, 5000), ArmEstimate(0.036, 0.0025, 4000)]
    expected = scipy_stats.norm.cdf((0.031 - 0.036) / math.hypot(0.002, 0.0025))
    chances = probability_best(estimates, draws=10, seed=0)
    assert chances[0] == pytest.approx(expected, rel=1e-12)
    assert sum(chances) == pytest.approx(1.0)
    lower = probability_best(estimates, draws=10, seed=0, lower_is_better=True)
    assert lower == pytest.approx(chances[::-1])


def test_many_arm_probability_best_matches_the_integral_within_monte_carlo_error() -> None:
    """P(arm best) = integral of its density times the other arms' distribution functions."""
    estimates = [ArmEstimate(0.030 + 0.001 * i, 0.0015 + 0.0002 * i, 1000) for i in range(4)]
    means = np.array([e.mean for e in estimates])
    errors = np.array([e.standard_error for e in estimates])

    def exact(arm: int) -> float:
        others = np.arange(len(estimates)) != arm

        def density(x: float) -> float:
            below = special.ndtr((x - means[others]) / errors[others])
            return float(scipy_stats.norm.pdf(x, means[arm], errors[arm]) * below.prod())

        low, high = means[arm] - 10 * errors[arm], means[arm] + 10 * errors[arm]
        return float(integrate.quad(density, low, high)[0])

    draws = 40_000
    chances = probability_best(estimates, draws=draws, seed=7)
    for arm, chance in enumerate(chances):
        expected = exact(arm)
        assert abs(chance - expected) <= 4 * math.sqrt(expected * (1 - expected) / draws) + 1e-9


@settings(max_examples=40, deadline=None)
@given(units=st.lists(st.integers(0, 10**6), min_size=2, max_size=10), data=st.data())
def test_period_srm_matches_scipy_chisquare(units: list[int], data: st.DataObject) -> None:
    weights = data.draw(st.lists(st.floats(0.01, 1.0), min_size=len(units), max_size=len(units)))
    [p_value] = period_srm_p_values([units], [weights])
    if sum(units) == 0:
        assert p_value == 1.0
        return
    expected = scipy_stats.chisquare(units, [sum(units) * w / sum(weights) for w in weights])
    assert p_value == pytest.approx(expected.pvalue, rel=1e-7, abs=1e-300)


estimate_lists = st.lists(
    st.builds(
        ArmEstimate,
        st.floats(0.0, 0.2),
        st.floats(0.0, 0.02),
        st.integers(1, 10**6),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=40, deadline=None)
@given(
    estimates=estimate_lists, floor=st.floats(0.0, 0.1), seed=st.integers(0, 2**32), data=st.data()
)
def test_weights_sum_to_one_respect_the_floor_and_follow_a_permutation(
    estimates: list[ArmEstimate], floor: float, seed: int, data: st.DataObject
) -> None:
    weights = top_two_thompson_weights(estimates, floor=floor, draws=2000, seed=seed)
    assert sum(weights) == pytest.approx(1.0, abs=1e-12)
    assert min(weights) >= floor - 1e-12
    assert weights == top_two_thompson_weights(estimates, floor=floor, draws=2000, seed=seed)
    order = data.draw(st.permutations(range(len(estimates))))
    permuted = top_two_thompson_weights(
        [estimates[i] for i in order], floor=floor, draws=2000, seed=seed
    )
    assert permuted == pytest.approx([weights[i] for i in order], abs=1e-12)
    chances = probability_best(estimates, draws=2000, seed=seed)
    assert sum(chances) == pytest.approx(1.0, abs=1e-12)
    assert probability_best([estimates[i] for i in order], draws=2000, seed=seed) == (
        pytest.approx([chances[i] for i in order], abs=1e-12)
    )


@settings(max_examples=40, deadline=None)
@given(
    estimates=st.lists(
        st.builds(
            ArmEstimate,
            st.floats(-1e308, 1e308),
            st.floats(0.0, 1e308) | st.sampled_from([0.0, 5e-324]),
            st.integers(1, 2**53),
        ),
        min_size=1,
        max_size=10,
    ),
    lower_is_better=st.booleans(),
)
def test_extreme_estimates_give_finite_figures(
    estimates: list[ArmEstimate], lower_is_better: bool
) -> None:
    chances = probability_best(estimates, draws=500, seed=3, lower_is_better=lower_is_better)
    weights = top_two_thompson_weights(
        estimates, floor=0.0, draws=500, seed=3, lower_is_better=lower_is_better
    )
    for figures in (chances, weights):
        assert all(math.isfinite(value) and 0 <= value <= 1 for value in figures)
        assert sum(figures) == pytest.approx(1.0, abs=1e-12)


def test_two_arms_share_traffic_equally_under_top_two_sampling() -> None:
    estimates = [ArmEstimate(0.03, 0.001, 10_000), ArmEstimate(0.05, 0.001, 10_000)]
    assert top_two_thompson_weights(estimates, floor=0.01, draws=1000, seed=1) == [0.5, 0.5]


def test_a_certain_leader_gets_its_share_and_the_rest_keep_the_floor() -> None:
    estimates = [ArmEstimate(0.03, 0.0001, 10**6)] * 3 + [ArmEstimate(0.2, 0.0001, 10**6)]
    weights = top_two_thompson_weights(estimates, floor=0.01, draws=3000, seed=2)
    assert weights[3] == pytest.approx(0.5)
    assert weights[:3] == pytest.approx([0.5 / 3] * 3)
    lopsided = top_two_thompson_weights(
        estimates, floor=0.05, draws=3000, seed=2, leader_share=0.95
    )
    assert lopsided[:3] == pytest.approx([0.05] * 3)
    assert lopsided[3] == pytest.approx(0.85)


def test_equal_allocation_gains_nothing_and_a_leaning_one_gains_its_difference() -> None:
    equal = [[ArmPeriodSums(1000, 30, 30), ArmPeriodSums(1000, 40, 40)]]
    assert gain_over_equal_split(equal).extra == 0.0
    leaning = [[ArmPeriodSums(500, 15, 15), ArmPeriodSums(1500, 60, 60)]]
    gain = gain_over_equal_split(leaning)
    # An equal split: 1000 units at 3 % and 1000 at 4 %, 70 conversions; the bandit got 75.
    assert gain.extra == pytest.approx(5.0)
    assert gain.observed == 75.0
    assert gain.relative == pytest.approx(5 / 70)
    expected_variance = 500**2 * 0.03 * 0.97 / 500 + 500**2 * 0.04 * 0.96 / 1500
    assert gain.standard_error == pytest.approx(math.sqrt(expected_variance))


@pytest.mark.parametrize(
    ("floor", "arms", "feasible"),
    [(0.01, 10, True), (0.1, 10, True), (1 / 3, 3, True), (0.11, 10, False), (-0.01, 2, False)],
)
def test_floor_is_feasible(floor: float, arms: int, feasible: bool) -> None:
    assert floor_is_feasible(floor, arms) is feasible
    assert not floor_is_feasible(math.nan, 2)


@pytest.mark.parametrize(
    ("periods", "field"),
    [
        ([], "periods"),
        ([[ArmPeriodSums(10, 1, 1)], [ArmPeriodSums(10, 1, 1)] * 2], "periods[1]"),
        ([[ArmPeriodSums(10, 11, 11)]], "periods[0][0].squares"),
        ([[ArmPeriodSums(-1, 0, 0)]], "periods[0][0].units"),
        ([[ArmPeriodSums(10, math.nan, 1)]], "periods[0][0].total"),
        ([[ArmPeriodSums(0, 1, 1)]], "periods[0][0]"),
        ([[ArmPeriodSums(10, 1, 1), ArmPeriodSums(0, 0, 0)]], "periods[*][1].units"),
        ([[ArmPeriodSums(1, 1e200, 1e308)]], "periods[0][0].squares"),
    ],
)
def test_bad_sums_name_the_field(periods: list[list[ArmPeriodSums]], field: str) -> None:
    with pytest.raises(StatsInputError) as raised:
        arm_estimates(periods)
    assert raised.value.field == field


def test_sums_whose_figures_overflow_are_refused() -> None:
    # Two cells of values +-9e153: each finite, their gain's variance beyond double precision.
    wide, flat = ArmPeriodSums(2, 0.0, 1.62e308), ArmPeriodSums(6, 0.0, 0.0)
    with pytest.raises(StatsInputError) as raised:
        gain_over_equal_split([[wide, flat], [wide, flat]])
    assert raised.value.field == "periods"


def test_numpy_integers_are_whole_numbers_and_bools_are_not() -> None:
    cells = [[ArmPeriodSums(np.int64(10), 1.0, 1.0), ArmPeriodSums(10, 2.0, 2.0)]]  # type: ignore[arg-type]
    assert arm_estimates(cells)[0].units == 10
    assert probability_best(arm_estimates(cells), draws=np.int64(10), seed=np.uint32(1))  # type: ignore[arg-type]
    with pytest.raises(StatsInputError) as raised:
        arm_estimates([[ArmPeriodSums(True, 1.0, 1.0)]])
    assert raised.value.field == "periods[0][0].units"


def test_bad_options_name_the_field() -> None:
    estimates = [ArmEstimate(0.03, 0.001, 100)] * 3
    cases = [
        ({"floor": 0.4, "draws": 10, "seed": 1}, "floor"),
        ({"floor": 0.01, "draws": 0, "seed": 1}, "draws"),
        ({"floor": 0.01, "draws": 10**9, "seed": 1}, "draws"),
        ({"floor": 0.01, "draws": 10, "seed": -1}, "seed"),
    ]
    for options, field in cases:
        with pytest.raises(StatsInputError) as raised:
            top_two_thompson_weights(estimates, **options)  # type: ignore[arg-type]
        assert raised.value.field == field
    with pytest.raises(StatsInputError) as raised:
        probability_best([ArmEstimate(math.inf, 0.0, 1)] * 3, draws=10, seed=1)
    assert raised.value.field == "estimates[0]"
    with pytest.raises(StatsInputError) as raised:
        period_srm_p_values([[10, 10]], [[0.0, 0.0]])
    assert raised.value.field == "weights[0]"
