"""The live plan beside the design: "needs about 123,000 visitors per variant: about 25 days at
your traffic", from the same planning code the start fixes the plan with (`experiments.planning`).

The traffic is the shop's measured over the last 14 days of exposures; while there are none, the
number typed by hand (`visitors_per_day`), which is used for the plan only and never stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import ValidationError

from experiments.models.experiment import Design
from experiments.models.metric import MetricPublic
from experiments.planning import TRAFFIC_DAYS, assumed_baseline, planned_units
from experiments.recent_baseline import MEASURED_KINDS, RecentBaseline, plan_with_recent

MAX_VISITORS_PER_DAY = 1e9


@dataclass(frozen=True, slots=True)
class PlanView:
    """The plan in words (`sentence`), or why there is none yet (`missing`)."""

    sentence: str | None
    missing: str | None
    measured: float | None  # visitors a day over the last 14 days, None without exposures
    units_per_variant: int | None = None
    days: int | None = None
    cuped_units_per_variant: int | None = None  # with the recent data's CUPED reduction


def about(number: float) -> str:
    """A figure rounded to three significant digits, as a person says it: 122,929 -> 123,000."""
    if number <= 0:
        return "0"
    digits = max(int(math.floor(math.log10(number))) - 2, 0)
    rounded = round(number, -digits)
    return f"{int(rounded):,}"


def plan_view(
    design_fields: dict[str, str],
    primary: MetricPublic | None,
    variants: int,
    traffic_text: str,
    measured: float | None,
    typed_visitors: str,
    recent: RecentBaseline | None = None,
    recent_looked_up: bool = False,
) -> PlanView:
    """What the design plans, at the measured traffic (else the typed one), sized from the
    recent data (`recent`) when there is some; once the recent data was looked up
    (`recent_looked_up`), the sentence says which numbers sized it."""
    try:
        design = Design.model_validate(design_fields)
    except ValidationError:
        return PlanView(None, "Fix the design's fields to see the plan.", measured)
    if primary is None:
        return PlanView(None, "Choose a primary metric to see the plan.", measured)
    count = max(variants, 2)
    units = planned_units(design, primary, count)
    sized = None if recent is None else plan_with_recent(design, primary, count, recent)
    cuped = None
    if sized is not None:
        units, cuped = sized.units_per_variant, sized.cuped_units_per_variant
    if units is None:
        baseline = assumed_baseline(design, primary)
        missing = f"No finite plan exists at a baseline of {baseline:g}: lower the effect."
        return PlanView(None, missing, measured)
    needs = f"needs about {about(cuped or units)} visitors per variant"
    if recent_looked_up:
        needs += _sized_from(design, primary, recent, sized is not None)
    visitors = measured if measured is not None else _number(typed_visitors)
    share = _number(traffic_text) or 1.0
    if visitors is None or not 0 < share <= 1:
        where = "enter your visitors a day to see how long it takes"
        return PlanView(
            f"{needs[0].upper()}{needs[1:]}; {where}.", None, measured, units, None, cuped
        )
    days = max(math.ceil((cuped or units) * count / (visitors * share)), 1)
    source = "your traffic" if measured is not None else "the traffic you entered"
    sentence = f"{needs[0].upper()}{needs[1:]}: about {days:,} days at {source}."
    return PlanView(sentence, None, measured, units, days, cuped)


def _sized_from(
    design: Design, primary: MetricPublic, recent: RecentBaseline | None, used: bool
) -> str:
    """Where the plan's numbers come from, in brackets ("" for a size the design fixes)."""
    if design.planned_units_per_variant is not None or design.population is not None:
        return ""
    if primary.kind not in MEASURED_KINDS:
        return " (sized at the design's numbers)"
    if recent is None or not used:
        days = f"too little data in the last {TRAFFIC_DAYS} days"
        return f" (sized at the design's numbers: {days})"
    given = design.baseline_rate if primary.kind == "conversion" else design.baseline_cv
    if given:
        baseline = "your baseline"
    elif primary.kind == "conversion":
        baseline = f"baseline {recent.baseline * 100:.1f} %"
    else:
        baseline = f"coefficient of variation {recent.baseline:.2g}"
    cuped = f"CUPED should remove about {recent.variance_reduction * 100:.0f} % of the variance"
    return f" (sized from the last {TRAFFIC_DAYS} days of your data: {baseline}, {cuped})"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 < value <= MAX_VISITORS_PER_DAY else None


TRAFFIC_NOTE = f"measured from the last {TRAFFIC_DAYS} days of exposures"
