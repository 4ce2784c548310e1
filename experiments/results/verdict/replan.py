"""The plan re-derived once from the shop's own baseline, after a burn-in, then frozen.

A plan sized at an assumed baseline is wrong when the shop is not the assumed one: at a control
rate 5 times below the assumed 2.5 %, the planned end has 15 % power instead of 80 % (the
statistics review of December 2026). So an assumed plan (`planned_from == "assumption"`) is
re-derived at the first look whose end is at least `BURN_IN_DAYS` after the start and whose
control holds at least `BURN_IN_CONTROL_UNITS` conversions (a conversion primary metric) or
units with a value or denominator (a mean or ratio one): from the control's observed rate, or
its observed coefficient of variation. The new plan, the baseline it was sized for and the
moment are stored in the design (and the audit log) and never move again; the looks from that
one on tune the mixture to it. The observed baseline is a nuisance parameter, not the effect:
re-planning once on it kept the A/A error at 1.4-1.8 % in the review's simulations
(docs/statistics.md, "The re-plan"). Rules: docs/results.md, "The plan".
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session

from experiments.audit import SYSTEM, record_change
from experiments.definitions import audit_state
from experiments.models.audit import AuditEntity
from experiments.models.experiment import Design, Experiment
from experiments.models.metric import MetricDefinition
from experiments.planning import assumed_baseline, detectable_at, plan_at, planned_units
from experiments.results.sums.aggregation import Aggregates, VariantSums
from experiments.results.types import MetricResult, PlanFacts

BURN_IN_DAYS = 7
# Below this measured reduction the pre-period data changes the plan by noise only.
LEAST_VARIANCE_REDUCTION = 0.01
BURN_IN_CONTROL_UNITS = 100
REPLANNED = "replanned"  # the audit log's action


def observed_baseline(primary: MetricDefinition, control: VariantSums) -> float | None:
    """The control's observed rate (conversion) or coefficient of variation (mean, ratio), or
    None before it holds `BURN_IN_CONTROL_UNITS` conversions or units with a value."""
    totals = control.totals
    if totals.n < 2:
        return None
    if primary.kind == "conversion":
        if totals.numerator_sum < BURN_IN_CONTROL_UNITS:
            return None
        rate = totals.numerator_sum / totals.n
        return rate if 0 < rate < 1 else None
    active = totals.n if control.nonzero_units is None else control.nonzero_units
    if active < BURN_IN_CONTROL_UNITS or totals.denominator_sum <= 0 or totals.numerator_sum <= 0:
        return None
    cv = math.sqrt(totals.variance) / totals.mean
    return cv if 0 < cv <= 1000 else None


def replan_due(design: Design, started_at: datetime | None, end: datetime) -> bool:
    """Whether a look ending at `end` is past the burn-in of an assumed, not yet re-derived,
    plan (the data still has its say: `replanned`)."""
    return (
        design.planned_from == "assumption"
        and started_at is not None
        and end - started_at >= timedelta(days=BURN_IN_DAYS)
    )


def replanned(
    design: Design,
    primary: MetricDefinition,
    variants: list[str],
    aggregates: Aggregates,
    started_at: datetime | None,
    end: datetime,
) -> Design | None:
    """The design re-planned at the look ending at `end`, or None when it is not due (see
    `replan_due`) or the control lacks the burn-in's data."""
    if not replan_due(design, started_at, end):
        return None
    baseline = observed_baseline(primary, aggregates.metrics[primary.key][variants[0]])
    if baseline is None:
        return None
    return design.model_copy(
        update={
            "planned_units_per_variant": plan_at(design, primary, len(variants), baseline),
            "planned_from": "observed",
            "observed_baseline": baseline,
            "replanned_at": end,
        }
    )


def design_as_of(design: Design, primary: MetricDefinition, variants: int, end: datetime) -> Design:
    """The design as it stood at `end`: a plan re-derived after `end` is not yet the one a look
    ending then reads (the pages computed for an earlier moment keep the assumed plan)."""
    if design.planned_from != "observed" or design.replanned_at is None:
        return design
    if design.replanned_at <= end:
        return design
    return design.model_copy(
        update={
            "planned_units_per_variant": plan_at(
                design, primary, variants, assumed_baseline(design, primary)
            ),
            "planned_from": "assumption",
            "observed_baseline": None,
            "replanned_at": None,
        }
    )


def store_replan(session: Session, experiment: Experiment, design: Design) -> None:
    """Write the re-planned design on `experiment` and log it (actor: Vekst itself), in the
    caller's transaction so the look that took it and the plan are stored together."""
    before = audit_state(experiment)
    experiment.design = experiment.design.model_copy(
        update=design.model_dump(
            include={
                "planned_units_per_variant",
                "planned_from",
                "observed_baseline",
                "replanned_at",
            },
        ),
    )
    session.add(experiment)
    record_change(
        session,
        SYSTEM,
        AuditEntity.EXPERIMENT,
        experiment.key,
        REPLANNED,
        before,
        audit_state(experiment),
    )


def plan_facts(
    design: Design, primary: MetricDefinition, variants: list[str], aggregates: Aggregates
) -> PlanFacts:
    """The plan of a look whose sums are `aggregates` (see `PlanFacts`)."""
    units = planned_units(design, primary, len(variants))
    control = aggregates.metrics.get(primary.key, {}).get(variants[0])
    now = None if control is None else observed_baseline(primary, control)
    sized_for = design.observed_baseline if design.planned_from == "observed" else None
    detectable = None
    if units is not None and now is not None:
        detectable = detectable_at(design, primary, len(variants), units, now)
    return PlanFacts(
        units,
        design.planned_from,
        sized_for or assumed_baseline(design, primary),
        now,
        detectable,
        design.replanned_at,
        primary.kind,
    )


def plan_with_cuped(plan: PlanFacts, primary: MetricResult) -> PlanFacts:
    """The plan with the primary metric's measured CUPED variance reduction, when there is one.

    The variance of a difference falls like 1 / units, so removing a share rho of it gives the
    plan's precision at (1 - rho) times its units: "keep running" counts towards those. The
    smallest reduction over the primary's comparisons with a reading is used (the arm the plan
    must still wait for), and none below `LEAST_VARIANCE_REDUCTION` or on a send to a fixed list
    (the list is the sample). The sequential test stays tuned to the plan's own units: a tuning
    that moved with each look's reduction would no longer be one mixture."""
    units = plan.units_per_variant
    if units is None or plan.planned_from == "list" or primary.analysis is None:
        return plan
    reductions = [
        comparison.cuped.variance_reduction
        for comparison in primary.analysis.comparisons
        if comparison.cuped is not None and comparison.p_value is not None
    ]
    if not reductions or min(reductions) < LEAST_VARIANCE_REDUCTION:
        return plan
    reduction = min(reductions)
    needed = max(math.ceil(units * (1.0 - reduction)), 2)
    return replace(plan, variance_reduction=reduction, cuped_units_per_variant=needed)
