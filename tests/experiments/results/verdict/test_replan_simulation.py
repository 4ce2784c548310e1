"""Seeded small versions of benchmarks/sim_replan.py: the re-planned plan restores the power a
plan sized at the wrong baseline loses, and keeps the A/A error under alpha."""

from __future__ import annotations

import pytest

from benchmarks.sim_replan import Scenario, simulate

RUNS = 200


def test_a_shop_five_times_below_the_assumption_regains_its_power() -> None:
    # 40,000 visitors per arm per day: the plan at 0.5 % (about 628,000) is reached in 16 days.
    replanned = simulate(Scenario(0.005, 0.10, 40_000, 40), RUNS, seed=1)
    today = simulate(Scenario(0.005, 0.10, 40_000, 40, replan=False), RUNS, seed=1)
    assert replanned.share("ship") >= 0.7
    assert today.share("ship") <= 0.35  # the review: 15 % at the assumed plan's end
    assert replanned.median_plan == pytest.approx(628_000, rel=0.1)
    assert replanned.share("horizon") == 0


def test_a_shop_five_times_above_the_assumption_ends_at_its_own_plan() -> None:
    outcome = simulate(Scenario(0.125, 0.10, 4_000, 40), RUNS, seed=2)
    assert outcome.share("ship") >= 0.7
    # Runs that have not shipped by the burn-in end there, at the plan sized for 12.5 %.
    assert outcome.share("ship") + outcome.share("inconclusive") == 1.0


@pytest.mark.parametrize("baseline", [0.005, 0.125])
def test_the_re_plan_keeps_the_a_a_error_under_alpha(baseline: float) -> None:
    outcome = simulate(Scenario(baseline, 0.0, 40_000, 40), RUNS, seed=3)
    assert outcome.share("ship") + outcome.share("stop") <= 0.05
