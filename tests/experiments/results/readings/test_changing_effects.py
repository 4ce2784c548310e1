"""Seeded small versions of benchmarks/sim_changing_effects.py: daily looks through
`analyse_metric`, the running readings and `decide`, with effects that change over time and
guardrails with margins. The full runs and their figures: docs/statistics.md."""

from __future__ import annotations

import math
import re

from benchmarks.look_simulations import (
    Guardrail,
    Scenario,
    change_aversion,
    novelty,
    share,
    simulate,
)
from experiments.results.types import Verdict
from experiments.results.words.summary_sentence import summarise

RUNS = 25
# "raised ... (95 % CI −7.3 % to −5.5 %)": a rise whose interval lies wholly below zero.
CONTRADICTION = re.compile(r"raised [^(]*\(95 % CI \N{MINUS SIGN}[^ ]+ % to \N{MINUS SIGN}")


def test_a_fading_lift_is_reported_as_changing_never_as_a_rise_below_zero() -> None:
    """The issue's checkout test: +50 % for three days after launch, then nothing."""
    fading = Scenario("novelty", novelty(0.50, 3))
    runs = simulate(fading, 3, seed=31, keep=True)
    said_changing = False
    for run in runs:
        for decision, primary in zip(run.decisions, run.primaries, strict=True):
            summary = summarise(decision, primary, [], "control", ())
            assert not CONTRADICTION.search(summary), summary
            if "The effect is changing over time" in summary:
                said_changing = True
                assert decision.verdict is Verdict.KEEP_RUNNING
        assert run.verdicts[-1] is not Verdict.SHIP  # not on the launch week's stale sign
    assert said_changing


def test_change_aversion_never_ships_on_a_sign_its_interval_contradicts() -> None:
    runs = simulate(Scenario("aversion", change_aversion(-0.15, 7, 0.05)), RUNS, seed=7)
    assert sum(run.contradictions for run in runs) == 0
    assert share([run.covered for run in runs]) >= 0.9
    assert share([any(run.changing) for run in runs]) > 0.2


def test_novelty_is_covered_and_flagged() -> None:
    runs = simulate(Scenario("novelty", novelty(0.30, 5)), RUNS, seed=5)
    assert share([run.covered for run in runs]) >= 0.9
    assert share([any(run.changing) for run in runs]) > 0.4
    assert sum(run.contradictions for run in runs) == 0


def test_a_constant_effect_keeps_its_power_and_is_rarely_flagged() -> None:
    runs = simulate(Scenario("constant", novelty(0.10, 30)), RUNS, seed=10)
    assert share([any(run.changing) for run in runs]) <= 0.05
    assert share([Verdict.SHIP in run.verdicts for run in runs]) >= 0.6
    aa = simulate(Scenario("A/A", novelty(0.0, 0)), RUNS, seed=0)
    assert share([run.significant[-1] for run in aa]) <= 0.05


def test_a_margin_tolerates_a_loss_within_it_and_catches_one_beyond() -> None:
    """Primary +10 %; add to cart (30 %) with a 2 % margin at 20,000 per arm per day."""

    def margin_runs(change: float, seed: int) -> list[bool]:
        guardrail = Guardrail("add_to_cart_rate", 0.30, change, 0.02)
        scenario = Scenario("margin", novelty(0.10, 10, 10), (), (guardrail,), 20_000)
        return [Verdict.STOP in run.verdicts for run in simulate(scenario, 20, seed)]

    assert share(margin_runs(-0.01, 1)) <= 0.05
    assert share(margin_runs(-0.04, 4)) >= 0.8


def test_a_loss_exactly_at_the_margin_errs_in_at_most_alpha_of_runs() -> None:
    """A true -2 % with a 2 % margin: each one-sided margin question ("harmed beyond it?",
    "loss over it ruled out?") errs at some look in at most alpha of runs, within three Monte
    Carlo standard errors."""
    runs = 100
    guardrail = Guardrail("add_to_cart_rate", 0.30, -0.02, 0.02)
    scenario = Scenario("at the margin", novelty(0.10, 30), (), (guardrail,), 20_000)
    found = simulate(scenario, runs, seed=2)
    bound = 0.05 + 3 * math.sqrt(0.05 * 0.95 / runs)
    assert share([any(run.harmed) for run in found]) <= bound
    assert share([any(run.ruled_out) for run in found]) <= bound
    assert share([Verdict.SHIP in run.verdicts for run in found]) <= bound
