"""The planned units per variant: set when the experiment starts, read by every later look.

The plan sizes the sequential test that decides (`stats.sample_size`'s default) and tunes its
mixture. When the design gives none, it comes from the design's baseline assumption; that
assumed plan is re-derived once from the control's observed baseline after the burn-in
(`results.verdict.replan`) and then frozen, so results, the timeseries and every later look
read one figure (docs/results.md, "The plan"). It sits below `results` because the start
(`lifecycle`) stores the plan, and a look reads it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from experiments.metrics import metric_catalog
from experiments.models.event import Exposure
from experiments.models.experiment import Design, Experiment, PlanSource
from experiments.models.metric import MetricDefinition
from stats import StatsInputError, detectable_effect, sample_size
from stats.power import PlanDesign

TRAFFIC_DAYS = 14


def visitors_per_day(session: Session, now: datetime) -> float | None:
    """The shop's new units a day: distinct units exposed in any experiment over the last
    `TRAFFIC_DAYS` days, divided by those days; None while there are none (the plan then asks
    for the traffic by hand). A unit counts once however often it came back, as an experiment
    counts it."""
    since = now - timedelta(days=TRAFFIC_DAYS)
    query = select(func.count(func.distinct(Exposure.unit_id))).where(
        col(Exposure.timestamp) >= since
    )
    units = session.exec(query).one()
    return units / TRAFFIC_DAYS if units else None


def list_units_per_variant(design: Design, variants: int) -> int | None:
    """Units each variant gets from the list (its test share), or None without a population.

    This is the planned size that tunes the sequential test of a send to a fixed list.
    """
    if design.population is None:
        return None
    return max(int(design.population * (design.test_share or 1.0) // variants), 2)


def planned_units(design: Design, primary: MetricDefinition, variants: int) -> int | None:
    """The design's planned units per variant; for a send to a fixed list, the units each
    variant gets from the list; else the sequential plan at the design's baseline assumption
    (None when no finite plan exists, e.g. a treated rate of 100 % or more). A plan re-derived
    from the observed baseline is the stored one, even when none was finite."""
    if design.planned_units_per_variant is not None or design.planned_from == "observed":
        return design.planned_units_per_variant
    from_list = list_units_per_variant(design, variants)
    if from_list is not None:
        return from_list
    return plan_at(design, primary, variants, assumed_baseline(design, primary))


def assumed_baseline(design: Design, primary: MetricDefinition) -> float:
    """The design's baseline assumption for `primary`: a control rate, or a coefficient of
    variation (standard deviation / mean per unit) for a mean or ratio metric; without one, the
    metric's own (`MetricDefinition.default_baseline`)."""
    given = design.baseline_rate if primary.kind == "conversion" else design.baseline_cv
    return given or primary.default_baseline


def plan_at(
    design: Design, primary: MetricDefinition, variants: int, baseline: float
) -> int | None:
    """The sequential plan for the design's effect, alpha and power at `baseline` (a rate for a
    conversion metric, a coefficient of variation otherwise); None when none is finite."""
    try:
        plan = sample_size(
            mde_relative=design.mde_relative, **_plan_design(design, primary, variants, baseline)
        )
    except StatsInputError:
        return None
    return max(plan.units_per_variant, 2)


def detectable_at(
    design: Design, primary: MetricDefinition, variants: int, units: int, baseline: float
) -> float | None:
    """The smallest relative change `units` per variant detect with the design's power at
    `baseline` (see `plan_at`); None when the baseline allows no answer."""
    try:
        found = detectable_effect(
            units_per_variant=units, **_plan_design(design, primary, variants, baseline)
        )
    except StatsInputError:
        return None
    return found.mde_relative


def _plan_design(
    design: Design, primary: MetricDefinition, variants: int, baseline: float
) -> PlanDesign:
    common: PlanDesign = {"alpha": design.alpha, "power": design.power, "variants": variants}
    if primary.kind == "conversion":
        return {**common, "baseline_rate": baseline}
    return {**common, "baseline_mean": 1.0, "baseline_sd": baseline}


def design_at_start(session: Session, experiment: Experiment) -> Design:
    """The experiment's design to store at the start: `planned_units_per_variant` filled
    in (None when no finite plan exists) and `planned_from` saying where it came from."""
    design = experiment.design
    source: PlanSource = "assumption"
    if design.planned_units_per_variant is not None:
        source = "design"
    elif design.population is not None:
        source = "list"
    primary = metric_catalog(session)[experiment.metrics.primary]
    # What a draft sent as the plan's record is Vekst's to set, now.
    fresh = design.model_copy(update={"planned_from": None})
    planned = planned_units(fresh, primary, len(experiment.variants))
    return design.model_copy(
        update={
            "planned_units_per_variant": planned,
            "planned_from": source,
            "observed_baseline": None,
            "replanned_at": None,
        }
    )
