"""The shop's recent data for a plan at creation: the primary metric's baseline and the CUPED
variance reduction a 14-day pre-period would give, measured in one bounded query.

The population is the units the shop's experiments saw: units exposed in any experiment over
the last `planning.TRAFFIC_DAYS` (14) days, the same units `visitors_per_day` counts, with their
value of the metric's numerator event (its aggregation, sources, cap not applied) in the last
`RECENT_DAYS` (7) days (the outcome) and in the 7 days before (the covariate). The baseline is
the outcome's rate (conversion) or coefficient of variation (mean); the reduction is the squared
correlation of outcome and covariate, what CUPED removes (`stats.cuped`). Only sums over units
leave the database. Below `LEAST_UNITS` units, without `LEAST_CONVERSIONS` converting units, for
ratio and quantile metrics, or when a week holds no variance, there is no measurement and the
plan uses the design's numbers (docs/results.md, "The plan").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, literal
from sqlalchemy.sql.expression import ColumnElement
from sqlmodel import Session, col, select

from experiments.models.event import Conversion, Exposure
from experiments.models.experiment import Design
from experiments.models.metric import MetricDefinition
from experiments.planning import TRAFFIC_DAYS, plan_at

RECENT_DAYS = 7
MEASURED_KINDS = ("conversion", "mean")  # a ratio's or quantile's baseline is the design's
LEAST_UNITS = 1000
LEAST_CONVERSIONS = 100  # units converting in the recent week, as the re-plan's burn-in asks
# Below this reduction the recent data changes the plan by noise only (as per look).
LEAST_VARIANCE_REDUCTION = 0.01


@dataclass(frozen=True, slots=True)
class RecentBaseline:
    """What the last 14 days say: a rate or coefficient of variation, and CUPED's reduction."""

    baseline: float
    variance_reduction: float
    units: int


def recent_baseline(
    session: Session, primary: MetricDefinition, now: datetime
) -> RecentBaseline | None:
    """The measured baseline and CUPED reduction of `primary`, or None (see the module)."""
    if primary.kind not in MEASURED_KINDS:
        return None
    since, middle = now - timedelta(days=TRAFFIC_DAYS), now - timedelta(days=RECENT_DAYS)
    exposed = (
        select(col(Exposure.unit_id).label("unit_id"))
        .where(col(Exposure.timestamp) >= since, col(Exposure.timestamp) < now)
        .distinct()
        .subquery()
    )
    value = (
        cast(func.coalesce(col(Conversion.value), 0.0), Float)
        if primary.numerator_aggregation == "sum"
        else cast(literal(1.0), Float)
    )
    recent = func.sum(case((col(Conversion.timestamp) >= middle, value), else_=0.0))
    prior = func.sum(case((col(Conversion.timestamp) < middle, value), else_=0.0))
    conditions = [
        col(Conversion.name) == primary.numerator_event,
        col(Conversion.timestamp) >= since,
        col(Conversion.timestamp) < now,
    ]
    if primary.sources is not None:
        conditions.append(col(Conversion.source).in_(primary.sources))
    per_unit = (
        select(
            col(Conversion.unit_id).label("unit_id"),
            recent.label("recent"),
            prior.label("prior"),
        )
        .where(*conditions)
        .group_by(col(Conversion.unit_id))
        .subquery()
    )
    y: ColumnElement[Any] = func.coalesce(per_unit.c.recent, 0.0)
    x: ColumnElement[Any] = func.coalesce(per_unit.c.prior, 0.0)
    if primary.numerator_aggregation == "any":
        y, x = case((y > 0, 1.0), else_=0.0), case((x > 0, 1.0), else_=0.0)
    sums = session.exec(
        select(  # type: ignore[call-overload]
            func.count(),
            func.sum(y),
            func.sum(y * y),
            func.sum(x),
            func.sum(x * x),
            func.sum(x * y),
            func.sum(case((y > 0, 1), else_=0)),
        ).select_from(exposed.outerjoin(per_unit, exposed.c.unit_id == per_unit.c.unit_id))
    ).one()
    return _measured(primary, *(float(s or 0) for s in sums))


def _measured(
    primary: MetricDefinition,
    n: float,
    sy: float,
    syy: float,
    sx: float,
    sxx: float,
    sxy: float,
    converting: float,
) -> RecentBaseline | None:
    if n < LEAST_UNITS or converting < LEAST_CONVERSIONS:
        return None
    mean_y, mean_x = sy / n, sx / n
    var_y = (syy - n * mean_y * mean_y) / (n - 1)
    var_x = (sxx - n * mean_x * mean_x) / (n - 1)
    cov = (sxy - n * mean_x * mean_y) / (n - 1)
    if var_y <= 0 or mean_y <= 0:
        return None
    if primary.kind == "conversion":
        baseline = mean_y
        if not 0 < baseline < 1:
            return None
    else:
        baseline = math.sqrt(var_y) / mean_y
    reduction = 0.0 if var_x <= 0 else min(max(cov * cov / (var_x * var_y), 0.0), 0.99)
    return RecentBaseline(baseline, reduction, int(n))


@dataclass(frozen=True, slots=True)
class RecentPlan:
    """A plan sized with the recent data: at its baseline (unless the design gives one), and
    the units CUPED's reduction leaves (`cuped_units_per_variant`, None below 1 %)."""

    units_per_variant: int | None
    cuped_units_per_variant: int | None
    measured: RecentBaseline


def plan_with_recent(
    design: Design, primary: MetricDefinition, variants: int, measured: RecentBaseline
) -> RecentPlan | None:
    """The plan sized from `measured`, or None when the design fixes its size (given units, a
    list) and the recent data has nothing to change. A baseline the design gives is kept: the
    author said so; the reduction applies either way, as the per-look `plan_with_cuped` does."""
    if design.planned_units_per_variant is not None or design.population is not None:
        return None
    given = design.baseline_rate if primary.kind == "conversion" else design.baseline_cv
    units = plan_at(design, primary, variants, given or measured.baseline)
    cuped = None
    if units is not None and measured.variance_reduction >= LEAST_VARIANCE_REDUCTION:
        cuped = max(math.ceil(units * (1.0 - measured.variance_reduction)), 2)
    return RecentPlan(units, cuped, measured)
