"""What a holdout's share can detect by its end, at the shop's traffic (docs/experiments.md,
"Holdouts").

Each group (the holdout and the measurement group) gets `share` of the new units a day
(`planning.visitors_per_day`, the last 14 days) until `ends_at`, on top of the units it has
already. The baseline of the first metric is the recent one (`recent_baseline`) when the shop
has enough data, else the metric's default (a page passes the pace and the baseline it keeps:
`Traffic`); the smallest relative change detected is the one a two-group sequential plan at
alpha 0.05 and 80 % power detects (`planning.detectable_at`), as a newsletter's list is sized.
The planned units also tune the looks' sequential readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from experiments.metrics import metric_catalog
from experiments.models.experiment import MAX_PLANNED_UNITS, Design
from experiments.planning import assumed_baseline, detectable_at, plan_at, visitors_per_day
from experiments.recent_baseline import RecentBaseline, recent_baseline

GROUPS_COMPARED = 2
PLAN = Design()
"""The plan's alpha (0.05), power (80 %) and, without traffic, effect (10 %)."""


@dataclass(frozen=True, slots=True)
class PowerFacts:
    """The figures behind a holdout's power statement (see the module)."""

    metric: str
    metric_name: str
    share: float
    ends_at: datetime
    visitors_per_day: float | None
    days: float
    units_per_group: int | None
    baseline: float
    baseline_from: Literal["recent", "assumed"]
    detectable_change: float | None


@dataclass(frozen=True, slots=True)
class Traffic:
    """The shop's new units a day and the first metric's recent baseline (None: too little
    data), measured by the caller."""

    visitors_per_day: float | None
    recent: RecentBaseline | None


def power_facts(
    session: Session,
    metric: str,
    share: float,
    ends_at: datetime,
    now: datetime,
    units_so_far: int = 0,
    traffic: Traffic | None = None,
) -> PowerFacts:
    """What `share` detects on `metric` by `ends_at` (each group has `units_so_far` now), at
    `traffic`, or at the traffic measured now when None."""
    primary = metric_catalog(session)[metric]
    days = max((ends_at - now).total_seconds() / 86400, 0.0)
    if traffic is None:
        traffic = Traffic(visitors_per_day(session, now), recent_baseline(session, primary, now))
    per_day, recent = traffic.visitors_per_day, traffic.recent
    units = None
    if per_day is not None or units_so_far:
        expected = units_so_far + (per_day or 0.0) * days * share
        units = min(int(expected), MAX_PLANNED_UNITS)
    baseline = assumed_baseline(PLAN, primary) if recent is None else recent.baseline
    detectable = None
    if units is not None and units >= 2:
        detectable = detectable_at(PLAN, primary, GROUPS_COMPARED, units, baseline)
    return PowerFacts(
        metric,
        primary.name,
        share,
        ends_at,
        per_day,
        days,
        units,
        baseline,
        "assumed" if recent is None else "recent",
        detectable,
    )


def planned_units_per_group(session: Session, facts: PowerFacts) -> int | None:
    """What a holdout's sequential readings are tuned to: the units each group reaches by the
    end, or without traffic yet the plan for a 10 % change at the baseline."""
    if facts.units_per_group is not None and facts.units_per_group >= 2:
        return facts.units_per_group
    primary = metric_catalog(session)[facts.metric]
    return plan_at(PLAN, primary, GROUPS_COMPARED, facts.baseline)
