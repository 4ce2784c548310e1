"""Seeded simulations of daily looks through the product's own results pipeline.

Each run draws daily counts of units (Bernoulli outcomes, so the per-look sums are exact
`VariantSums`), and at every look goes through `analyse_metric` (the results pipeline's
analysis), `running_result` (the running readings a stored look holds) and `decide` (the
verdict). Effects may change from day to day (novelty, change aversion, weekends). The tests
run these small (tests/experiments/results/readings/test_changing_effects.py); `python -m
benchmarks.sim_changing_effects` runs them large for the figures in docs/statistics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from experiments.metrics import builtin_metrics
from experiments.results.readings.metric_analysis import analyse_metric
from experiments.results.readings.running import StoredReading, running_result
from experiments.results.sums.aggregation import VariantSums
from experiments.results.types import Decision, MetricResult, Role, Verdict
from experiments.results.verdict.decision import (
    Blockers,
    PlanProgress,
    decide,
    harms,
    loss_ruled_out,
)
from stats import AnalysisOptions, RatioStats

BASELINE = 0.025
UNITS_PER_DAY = 4000  # per arm
PLANNED = 122_929  # stats.sample_size at 2.5 %, +10 %, power 0.8 (the sequential plan)
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: days 6 and 7 are the weekend
NO_BLOCKERS = Blockers(srm=False, data_quality_share=0.0)
METRICS = builtin_metrics()


@dataclass(frozen=True, slots=True)
class Guardrail:
    """A conversion guardrail: its metric key, base rate, true relative change, margin."""

    metric: str
    rate: float
    change: float
    margin: float | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    """The primary metric's true relative lift per day (and the traffic per day, relative to
    UNITS_PER_DAY), with the guardrails."""

    name: str
    lifts: tuple[float, ...]
    traffic: tuple[float, ...] = ()
    guardrails: tuple[Guardrail, ...] = ()
    units_per_day: int = UNITS_PER_DAY

    @property
    def days(self) -> int:
        return len(self.lifts)

    def units(self) -> np.ndarray:
        scale = np.array(self.traffic or (1.0,) * self.days)
        units: np.ndarray = np.rint(self.units_per_day * scale).astype(np.int64)
        return units


def novelty(lift: float, days: int, looks: int = 30) -> tuple[float, ...]:
    return tuple(lift if day < days else 0.0 for day in range(looks))


def change_aversion(before: float, days: int, after: float, looks: int = 30) -> tuple[float, ...]:
    return tuple(before if day < days else after for day in range(looks))


def weekend(lift: float, looks: int = 30) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(lifts, traffic): ``lift`` and 1.5 times the traffic on Saturdays and Sundays."""
    weekends = [(START + timedelta(days=day)).weekday() >= 5 for day in range(looks)]
    return (
        tuple(lift if end else 0.0 for end in weekends),
        tuple(1.5 if end else 1.0 for end in weekends),
    )


@dataclass(slots=True)
class Run:
    """What one run showed, look by look (index: day)."""

    covered: bool = True  # the reported interval held the cumulative effect at every look
    contradictions: int = 0  # looks whose verdict's direction contradicts its interval
    significant: list[bool] = field(default_factory=list)  # running (ever) significant
    changing: list[bool] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    harmed: list[bool] = field(default_factory=list)  # the first guardrail harmed
    ruled_out: list[bool] = field(default_factory=list)  # its margin's loss ruled out
    decisions: list[Decision] = field(default_factory=list)
    primaries: list[MetricResult] = field(default_factory=list)


def _sums(units: int, conversions: int) -> VariantSums:
    c = float(conversions)
    return VariantSums(RatioStats(units, c, c, float(units), float(units), c))


def _draw(
    rng: np.random.Generator, units: np.ndarray, rates: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative units and conversions per look of one arm."""
    return units.cumsum(), rng.binomial(units, rates).cumsum()


def simulate(scenario: Scenario, runs: int, seed: int, *, keep: bool = False) -> list[Run]:
    """``runs`` runs of ``scenario`` read at one look per day; ``keep`` keeps each look's
    decision and primary result (for the summary sentences)."""
    rng = np.random.default_rng(seed)
    units = scenario.units()
    lifts = np.array(scenario.lifts)
    # The cumulative average effect at each look: what the look's own sequence covers.
    treated = (units * BASELINE * (1 + lifts)).cumsum() / units.cumsum()
    target = treated - BASELINE
    options = AnalysisOptions(0.05, weights=(1.0, 1.0), planned_units_per_variant=PLANNED)
    margins = {g.metric: g.margin for g in scenario.guardrails if g.margin is not None}
    found = []
    for _ in range(runs):
        arms = {
            "conversion_rate": (
                _draw(rng, units, np.full(units.size, BASELINE)),
                _draw(rng, units, BASELINE * (1 + lifts)),
            )
        }
        for guardrail in scenario.guardrails:
            rates = np.full(units.size, guardrail.rate)
            arms[guardrail.metric] = (
                _draw(rng, units, rates),
                _draw(rng, units, rates * (1 + guardrail.change)),
            )
        found.append(_looks(scenario, arms, target, options, margins, keep))
    return found


def _looks(
    scenario: Scenario,
    arms: dict[str, tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]],
    target: np.ndarray,
    options: AnalysisOptions,
    margins: dict[str, float],
    keep: bool,
) -> Run:
    run = Run()
    previous: dict[tuple[str, str], StoredReading] = {}
    roles: dict[str, Role] = dict.fromkeys(arms, "guardrail")
    roles["conversion_rate"] = "primary"
    for day in range(scenario.days):
        as_of = START + timedelta(days=day + 1)
        results = []
        for key, ((n_c, x_c), (n_t, x_t)) in arms.items():
            sums = {"control": _sums(n_c[day], x_c[day]), "treatment": _sums(n_t[day], x_t[day])}
            result = analyse_metric(METRICS[key], roles[key], sums, options, margins.get(key))
            result = running_result(result, previous, as_of)
            for comparison in result.analysis.comparisons if result.analysis else ():
                previous[(key, comparison.variant)] = StoredReading(
                    comparison.sequential, result.running_of(comparison.variant)
                )
            results.append(result)
        primary, guardrails = results[0], results[1:]
        units = int(arms["conversion_rate"][0][0][day])
        plan = PlanProgress(PLANNED, units, 2, 2.0 * units / (day + 1))
        decision = decide(primary, guardrails, NO_BLOCKERS, plan)
        _record(run, primary, guardrails, decision, float(target[day]), margins)
        if keep:
            run.decisions.append(decision)
            run.primaries.append(primary)
    return run


def _record(
    run: Run,
    primary: MetricResult,
    guardrails: Sequence[MetricResult],
    decision: Decision,
    target: float,
    margins: dict[str, float],
) -> None:
    comparison = primary.analysis.comparisons[0] if primary.analysis else None
    sequential = None if comparison is None else comparison.sequential
    if sequential is not None and sequential.absolute.ci_low is not None:
        run.covered = run.covered and not sequential.absolute.excludes(target)
    interval = None if sequential is None else sequential.relative
    if decision.verdict is Verdict.SHIP and interval is not None:
        run.contradictions += not (interval.ci_low is not None and interval.ci_low > 0)
    if decision.verdict is Verdict.STOP and decision.harmed_guardrail is None and interval:
        run.contradictions += not (interval.ci_high is not None and interval.ci_high < 0)
    run.significant.append(bool(sequential and sequential.significant))
    run.changing.append(primary.running_of("treatment").effect_changing)
    run.verdicts.append(decision.verdict)
    first = [(g, c) for g in guardrails[:1] for c in (g.analysis.comparisons if g.analysis else ())]
    run.harmed.append(any(harms(g, c, margins.get(g.metric)) for g, c in first))
    run.ruled_out.append(
        any(g.metric in margins and loss_ruled_out(g, c, margins[g.metric]) for g, c in first)
    )


def share(flags: Sequence[bool]) -> float:
    return float(np.mean(flags)) if flags else float("nan")
