"""The plan re-derived from the observed baseline: power at its end and the A/A error, against
the plan fixed at the assumed 2.5 %. Figures for docs/statistics.md, "The re-plan".

Each run draws daily Bernoulli visitors per arm (the design's +10 % in the treatment, or none),
sums them into the look's sufficient statistics as the results aggregation does, and goes
through the product's own functions at one look per day: `replan.replanned` (the re-plan after
the burn-in), `replan.plan_facts` (the plan and whether it is final), `analyse_metric` (the
sequential reading tuned to that plan) and `decide`. A run ends at its first verdict other than
"keep running" (ship, stop or inconclusive), or at the horizon.

Run from the repository root: python -m benchmarks.sim_replan [--runs 1000]
Seeded; each line prints its Monte Carlo standard error.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from experiments.metrics import builtin_metrics
from experiments.models.experiment import Design, PlanSource
from experiments.planning import planned_units
from experiments.results.readings.metric_analysis import analyse_metric
from experiments.results.sums.aggregation import Aggregates, VariantSums
from experiments.results.types import Verdict
from experiments.results.verdict.decision import Blockers, PlanProgress, decide
from experiments.results.verdict.replan import plan_facts, replanned
from stats import AnalysisOptions, RatioStats

CONVERSION = builtin_metrics()["conversion_rate"]
VARIANTS = ["control", "treatment"]
START = datetime(2026, 3, 2, tzinfo=UTC)
NO_BLOCKERS = Blockers(False, 0.0)
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Scenario:
    """A shop: its true control rate, the true relative lift, visitors per arm per day, the
    horizon in days, and whether the assumed plan is re-derived (today's product: not)."""

    baseline: float
    lift: float
    daily_units: int
    horizon_days: int
    replan: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    """Share of runs per first verdict, the median day of a ship or stop, and the runs."""

    shares: dict[str, float]
    median_day: float | None
    median_plan: float
    runs: int

    def share(self, verdict: str) -> float:
        return self.shares.get(verdict, 0.0)

    def standard_error(self, verdict: str) -> float:
        rate = self.share(verdict)
        return math.sqrt(rate * (1.0 - rate) / self.runs)


def _sums(units: int, conversions: int) -> VariantSums:
    """A conversion metric's sums as the aggregation lays them out (denominator 1 per unit)."""
    totals = RatioStats(
        n=units,
        numerator_sum=conversions,
        numerator_sum_squares=conversions,
        denominator_sum=units,
        denominator_sum_squares=units,
        cross_sum=conversions,
    )
    return VariantSums(totals)


def start_design(scenario: Scenario) -> Design:
    """The design stored at the start: the plan at the assumed 2.5 %. Today's product stored
    it with nothing to say it may be re-derived (`planned_from` None: never re-planned)."""
    assumed = planned_units(Design(), CONVERSION, len(VARIANTS))
    source: PlanSource | None = "assumption" if scenario.replan else None
    return Design(planned_units_per_variant=assumed, planned_from=source)


def first_verdict(
    scenario: Scenario, control: IntArray, treatment: IntArray
) -> tuple[str, int, int | None]:
    """(verdict, day, planned units) of one run, from cumulative daily conversions per arm."""
    design = start_design(scenario)
    units = scenario.daily_units
    planned: int | None = None
    for day in range(1, scenario.horizon_days + 1):
        n = units * day
        sums = {
            "control": _sums(n, int(control[day - 1])),
            "treatment": _sums(n, int(treatment[day - 1])),
        }
        aggregates = Aggregates.by_variant(
            {"control": n, "treatment": n}, 0, {CONVERSION.key: sums}
        )
        found = replanned(
            design, CONVERSION, VARIANTS, aggregates, START, START + timedelta(days=day)
        )
        design = design if found is None else found
        facts = plan_facts(design, CONVERSION, VARIANTS, aggregates)
        planned = facts.units_per_variant
        options = AnalysisOptions(0.05, planned_units_per_variant=planned)
        result = analyse_metric(CONVERSION, "primary", sums, options)
        plan = PlanProgress(planned, n, len(VARIANTS), 2.0 * units, final=facts.final)
        verdict = decide(result, [], NO_BLOCKERS, plan).verdict
        if verdict is not Verdict.KEEP_RUNNING:
            return verdict.value, day, planned
    return "horizon", scenario.horizon_days, planned


def simulate(scenario: Scenario, runs: int, seed: int) -> Outcome:
    """The first verdict of `runs` seeded runs of `scenario`."""
    rng = np.random.default_rng(seed)
    days, units = scenario.horizon_days, scenario.daily_units
    treated = scenario.baseline * (1.0 + scenario.lift)
    counts: Counter[str] = Counter()
    decided_days, plans = [], []
    for _ in range(runs):
        control = rng.binomial(units, scenario.baseline, days).cumsum()
        treatment = rng.binomial(units, treated, days).cumsum()
        verdict, day, planned = first_verdict(scenario, control, treatment)
        counts[verdict] += 1
        plans.append(planned or 0)
        if verdict in ("ship", "stop"):
            decided_days.append(day)
    shares = {verdict: count / runs for verdict, count in counts.items()}
    median = float(np.median(decided_days)) if decided_days else None
    return Outcome(shares, median, float(np.median(plans)), runs)


def scenarios(daily_units: int) -> list[tuple[str, Scenario]]:
    """The review's shops (4,000 visitors per arm per day): 5 times below, at and 5 times above
    the assumed 2.5 %, with the design's +10 % and without, re-planned and as today."""
    horizon = {0.005: 280, 0.025: 60, 0.125: 40}
    found = []
    for baseline in (0.005, 0.025, 0.125):
        days = horizon[baseline] * 4000 // daily_units
        for lift, label in ((0.10, "+10 %"), (0.0, "A/A")):
            for replan in (True, False):
                how = "re-planned" if replan else "today (assumed plan)"
                scenario = Scenario(baseline, lift, daily_units, days, replan)
                found.append((f"{baseline:.1%} {label}, {how}", scenario))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--daily-units", type=int, default=4000)
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    print(f"{args.daily_units:,} visitors per arm per day, one look a day, alpha 0.05, power 0.8")
    print(
        "| shop | ship | stop | inconclusive | no verdict by the horizon | MC s.e. (ship) "
        "| median day of ship/stop | median plan per arm |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for seed, (label, scenario) in enumerate(scenarios(args.daily_units)):
        outcome = simulate(scenario, args.runs, seed=500 + seed)
        day = "-" if outcome.median_day is None else f"{outcome.median_day:.0f}"
        print(
            f"| {label} | {outcome.share('ship'):.1%} | {outcome.share('stop'):.1%} "
            f"| {outcome.share('inconclusive'):.1%} | {outcome.share('horizon'):.1%} "
            f"| {outcome.standard_error('ship'):.1%} | {day} | {outcome.median_plan:,.0f} |",
            flush=True,
        )
    print(f"runs per line: {args.runs}; elapsed: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
