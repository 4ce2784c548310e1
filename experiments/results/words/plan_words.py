"""The plan in words: what it is sized for, and what it detects at the shop's own baseline.

"Planned for your observed 0.5 %: 627,931 visitors per variant (re-planned on 2026-03-09),
enough to detect a change of 10 % or more." Rules: docs/results.md, "The plan".
"""

from __future__ import annotations

from dataclasses import replace

from experiments.results.types import PlanFacts
from experiments.results.verdict.replan import BURN_IN_CONTROL_UNITS, BURN_IN_DAYS
from experiments.results.words.formatting import decimal, percent, plural


def baseline_words(facts: PlanFacts, baseline: float) -> str:
    """'0.5 %' for a rate, 'a spread of 8.9 times the mean' for a coefficient of variation."""
    if facts.kind == "conversion":
        return percent(baseline)
    return f"spread (standard deviation {decimal(baseline, 1)} times the mean)"


def plan_sentence(facts: PlanFacts, unit: str) -> str:
    """One or two sentences on the plan; '' for a send to a fixed list (its own sentence says
    what the list detects)."""
    if facts.planned_from == "list":
        return ""
    units = facts.units_per_variant
    sized = None if units is None else f"{plural(units, unit)} per variant"
    if facts.planned_from == "observed":
        when = "" if facts.replanned_at is None else f" on {facts.replanned_at.date()}"
        observed = baseline_words(facts, facts.baseline)
        if sized is None:
            return (
                f"Re-planned{when} for your observed {observed}: no finite sample detects the "
                "design's change there."
            )
        return (
            f"Planned for your observed {observed}: {sized} (re-planned{when})"
            f"{_detects(facts, ', enough to detect')}."
        )
    if facts.planned_from == "assumption":
        assumed = baseline_words(facts, facts.baseline)
        events = "conversions" if facts.kind == "conversion" else f"{unit}s with a value"
        head = (
            f"Planned for an assumed {assumed}: {sized or 'no finite plan'}; it is re-planned "
            f"once for your own baseline after {BURN_IN_DAYS} days and {BURN_IN_CONTROL_UNITS} "
            f"{events} in the control."
        )
        return head + _at_observed(facts)
    if sized is None:
        return ""
    return f"Planned at {sized} (set in the design).{_at_observed(facts)}"


def _detects(facts: PlanFacts, lead: str) -> str:
    if facts.detectable_change is None:
        return ""
    return f"{lead} a change of {percent(facts.detectable_change)} or more"


def _at_observed(facts: PlanFacts) -> str:
    if facts.detectable_change is None or facts.observed_baseline is None:
        return ""
    observed = baseline_words(facts, facts.observed_baseline)
    return f" At the {observed} observed so far it can detect{_detects(facts, '')}."


def cuped_sentence(facts: PlanFacts, unit: str) -> str:
    """' The pre-period data removes 23 % of the variance (CUPED): 94,655 visitors per variant
    give the plan's precision, and "keep running" counts towards them.' or ''."""
    if facts.variance_reduction is None or facts.cuped_units_per_variant is None:
        return ""
    return (
        f" The pre-period data removes {percent(facts.variance_reduction)} of the variance "
        f"(CUPED): {plural(facts.cuped_units_per_variant, unit)} per variant give the plan's "
        'precision, and "keep running" counts towards them.'
    )


def with_sentence(facts: PlanFacts, unit: str) -> PlanFacts:
    """The plan with its sentence (`plan_sentence`, then CUPED's `cuped_sentence`) set."""
    text = plan_sentence(facts, unit)
    return replace(facts, text=(text + cuped_sentence(facts, unit)).strip() if text else text)
