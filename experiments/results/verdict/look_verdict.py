"""Stage 4 of a look: its verdict, from the running readings and how far the plan is.

The primary metric and the guardrails decide (`decision.decide`), blocked by a sample ratio
mismatch or a large data-quality problem; a send to a fixed list then waits for its window
(`fixed_list.for_fixed_list`).
"""

from __future__ import annotations

from datetime import datetime

from experiments.models.experiment import Design, Experiment
from experiments.results.look_inputs import LookInputs
from experiments.results.sums.aggregation import Aggregates
from experiments.results.types import Decision, MetricResult, PlanFacts
from experiments.results.verdict.decision import Blockers, PlanProgress, decide
from experiments.results.verdict.fixed_list import for_fixed_list
from stats import SrmResult


def decide_look(
    inputs: LookInputs,
    readings: list[MetricResult],
    srm: SrmResult,
    aggregates: Aggregates,
    progress: PlanProgress,
    design: Design,
    end: datetime,
) -> Decision:
    """The verdict of the look ending at `end` on its (running) `readings`, primary first."""
    primary = readings[0]
    guardrails = [result for result in readings if result.role == "guardrail"]
    blockers = Blockers(srm.mismatch, aggregates.multi_variant_share)
    decision = decide(primary, guardrails, blockers, progress)
    return for_fixed_list(decision, design, inputs.primary, primary, inputs.experiment, end)


def plan_progress(
    inputs: LookInputs,
    aggregates: Aggregates,
    plan: PlanFacts,
    end: datetime,
    *,
    has_reading: bool,
) -> PlanProgress:
    """How far the look is from the planned units; `has_reading`: whether the primary metric
    has a reading (before a day of traffic, a pace is projected only then)."""
    return PlanProgress(
        plan.units_needed,
        min(aggregates.units.values()),
        len(inputs.variants),
        _daily_units(inputs.experiment, aggregates, end, has_reading=has_reading),
        final=plan.final,
    )


def _daily_units(
    experiment: Experiment, aggregates: Aggregates, end: datetime, *, has_reading: bool
) -> float | None:
    """Units entering the experiment per day so far (all variants); None (no days-left figure)
    before a day of traffic unless the primary metric already has a reading: one visitor in
    the first minutes is no pace to project from."""
    if experiment.started_at is None:
        return None
    elapsed_days = (end - experiment.started_at).total_seconds() / 86400
    if elapsed_days <= 0 or (elapsed_days < 1 and not has_reading):
        return None
    return aggregates.exposed_units / max(elapsed_days, 1.0)
