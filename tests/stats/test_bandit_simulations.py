"""Bandit campaigns from raw visitors, seeded and small (the long runs are
`python -m benchmarks.sim_bandits`, figures in docs/statistics.md "Bandits")."""

from __future__ import annotations

import numpy as np

from benchmarks.bandit_simulations import Campaign, Policy, simulate, summarise
from benchmarks.sim_bandits import building_rates, building_traffic
from stats.bandits import ArmEstimate, ArmPeriodSums, arm_estimates

QUICK = Policy(draws=2000)
BUILDING_AA = Campaign((0.03,) * 4, traffic=building_traffic, baseline=building_rates)


def test_the_bandit_finds_the_better_banner_and_loses_fewer_clicks_than_an_equal_split() -> None:
    outcomes = simulate(Campaign((0.03,) * 4 + (0.036,)), QUICK, runs=3, seed=1)
    summary = summarise(outcomes, best_arm=4)
    assert summary.found == 1.0
    assert summary.called_wrong == 0.0
    assert summary.fewer_clicks_lost > 0.2
    for outcome in outcomes:
        assert outcome.weights[0] == [0.2] * 5  # the exploration day
        assert int(np.argmax(outcome.weights[-1])) == 4
        assert min(min(day) for day in outcome.weights) >= 0.01 - 1e-12
        assert min(outcome.srm_p_values) > 0.001


def test_moving_traffic_and_rates_make_pooled_units_call_winners_period_weights_do_not() -> None:
    weighted = summarise(simulate(BUILDING_AA, QUICK, runs=5, seed=3), best_arm=-1)
    pooled = summarise(
        simulate(BUILDING_AA, Policy(draws=2000, period_weighted=False), runs=5, seed=3),
        best_arm=-1,
    )
    assert weighted.called == 0.0
    assert pooled.called >= 0.4


def test_period_weights_remove_the_bias_that_moving_shares_give_pooled_means() -> None:
    """Simpson's paradox from raw visitors: arm 0's share grows from 10 % to 70 % while the click
    rate triples over the days; with no real difference, its pooled mean is far above the others'
    and its period-weighted mean is not."""
    rng = np.random.default_rng(5)
    periods = []
    for day in range(14):
        share = 0.1 + 0.6 * day / 13
        weights = [share] + [(1 - share) / 3] * 3
        assigned = rng.choice(4, size=20_000, p=weights)
        clicked = rng.random(assigned.size) < 0.02 * (1 + 2 * day / 13)
        units = np.bincount(assigned, minlength=4)
        clicks = np.bincount(assigned, weights=clicked, minlength=4)
        periods.append(
            [ArmPeriodSums(int(n), float(c), float(c)) for n, c in zip(units, clicks, strict=True)]
        )
    pooled = arm_estimates([[sum(arm[1:], arm[0]) for arm in zip(*periods, strict=True)]])
    weighted = arm_estimates(periods)

    def z_of_arm_zero(estimates: list[ArmEstimate]) -> float:
        others = estimates[1:]
        gap = estimates[0].mean - np.mean([e.mean for e in others])
        return float(gap / estimates[0].standard_error)

    assert z_of_arm_zero(pooled) > 10
    assert abs(z_of_arm_zero(weighted)) < 3
