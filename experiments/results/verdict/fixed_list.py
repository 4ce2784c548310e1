"""A send to a fixed list (a newsletter): what the list can detect, the attribution window, and
which variant to send to the rest of the list in test-then-send mode.

A web test gains units every day, so "keep running" asks for more of them. A newsletter is sent
once to a list of known size: there will be no more units, only more time for opens, clicks and
orders to arrive. So with `design.population` the verdict waits until the attribution window
after the send has closed, then ships, stops or says the list showed no clear difference, and
never asks for more days. Rules: docs/results.md, "Newsletters".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from experiments.models.experiment import Design, Experiment
from experiments.models.metric import MetricDefinition
from experiments.planning import list_units_per_variant
from experiments.results.readings.direction import is_better
from experiments.results.types import Decision, FixedListPlan, MetricResult, SendAdvice, Verdict
from stats import StatsInputError, detectable_effect


def list_plan(
    design: Design,
    primary: MetricDefinition,
    control_value: float | None,
    variants: int,
    started_at: datetime,
) -> FixedListPlan | None:
    """The plan of a send to a fixed list, or None for an experiment without a population."""
    per_variant = list_units_per_variant(design, variants)
    if design.population is None or per_variant is None:
        return None
    closes = None
    if design.attribution_hours is not None:
        closes = started_at + timedelta(hours=design.attribution_hours)
    return FixedListPlan(
        design.population,
        per_variant,
        detectable_change(design, primary, control_value, per_variant, variants),
        closes,
        design.test_share,
    )


def detectable_change(
    design: Design,
    primary: MetricDefinition,
    control_value: float | None,
    units_per_variant: int,
    variants: int,
) -> float | None:
    """Smallest relative change of a rate the list detects with the design's power, or None.

    The rate is the control's observed one once counts exist, else `design.baseline_rate`.
    """
    rate = control_value if control_value else design.baseline_rate
    if primary.value_format != "share" or rate is None or not 0 < rate < 1:
        return None
    try:
        found = detectable_effect(
            units_per_variant=units_per_variant,
            baseline_rate=rate,
            alpha=design.alpha,
            power=design.power,
            variants=variants,
        )
    except StatsInputError:
        return None
    return found.mde_relative


def decide_for_list(decision: Decision, plan: FixedListPlan, end: datetime) -> Decision:
    """The decision of a fixed-list send: wait for the window, then never "keep running"."""
    if plan.window_closes_at is not None and end < plan.window_closes_at:
        return Decision(
            Verdict.KEEP_RUNNING,
            None,
            "the attribution window after the send is still open; the verdict waits for it",
            wait_until=plan.window_closes_at,
            guardrails=decision.guardrails,
        )
    if decision.verdict is Verdict.KEEP_RUNNING:
        return Decision(
            Verdict.INCONCLUSIVE,
            None,
            "the whole list has been counted and no variant differs clearly on the primary metric",
            guardrails=decision.guardrails,
        )
    return decision


def send_advice(
    decision: Decision,
    plan: FixedListPlan,
    primary: MetricResult,
    primary_definition: MetricDefinition,
) -> SendAdvice | None:
    """In test-then-send mode, once the window has closed: the variant for the rest of the list.

    A shipped variant is clearly better; otherwise the best observed variant is named when it
    beats the control, else the control, and `clearly_better` says it may be chance.
    """
    if plan.test_share is None or decision.wait_until is not None:
        return None
    values = {variant.key: variant.mean for variant in primary.variants}
    control = primary.variants[0].key
    clearly = decision.verdict is Verdict.SHIP and decision.variant is not None
    if clearly and decision.variant is not None:
        chosen = decision.variant
    elif decision.verdict is Verdict.STOP:
        chosen = control
    else:
        chosen = _best_observed(primary, values, control)
    remaining = round(plan.population * (1 - plan.test_share))
    gain = None
    if values.get(chosen) is not None and values.get(control) is not None:
        gain = remaining * (float(values[chosen] or 0.0) - float(values[control] or 0.0))
    # What the gain is counted in: money, or what one unit of the metric counts ("clicks").
    counted_as = primary_definition.counted_as or "conversions"
    if primary_definition.value_format == "money":
        counted_as = "revenue"
    return SendAdvice(chosen, clearly, remaining, gain, counted_as)


def for_fixed_list(
    decision: Decision,
    design: Design,
    primary_definition: MetricDefinition,
    primary: MetricResult,
    experiment: Experiment,
    end: datetime,
) -> Decision:
    """`decision` as a send to a fixed list reads it (unchanged without `design.population`)."""
    started_at = experiment.started_at
    if design.population is None or started_at is None:
        return decision
    control_value = primary.variants[0].mean if primary.variants else None
    variants = len(experiment.variants)
    plan = list_plan(design, primary_definition, control_value, variants, started_at)
    if plan is None:
        return decision
    decided = replace(decide_for_list(decision, plan, end), list_plan=plan)
    return replace(decided, send=send_advice(decided, plan, primary, primary_definition))


def _best_observed(primary: MetricResult, values: dict[str, float | None], control: str) -> str:
    best = control
    for variant in primary.variants[1:]:
        value, current = variant.mean, values[best]
        if value is None or current is None:
            continue
        if is_better(primary.direction, value - current):
            best = variant.key
    return best
