"""The per-unit columns ("features") the results queries read, and their bounds.

A feature is one per-unit count or sum of an event, after the unit's first exposure (within a
window) or in the pre-period before it (CUPED). `aggregate` (one end) and the backfill (many
looks) build the same features, bounds and metric sides from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import and_, case, func, literal
from sqlalchemy.sql.expression import ColumnElement, Label

from experiments.models.metric import Aggregation, MetricDefinition
from experiments.results.sql_functions import shifted_timestamp, smaller_of

PRE_PERIOD_DAYS = 14
# SQLite computes a unit's bounds with julianday() and writes them to the millisecond (up to
# about half a millisecond off); a millisecond of slack keeps events exactly on a bound counted
# on both databases.
BOUNDARY_TOLERANCE_SECONDS = 0.001

Period = Literal["post", "pre"]


@dataclass(frozen=True, slots=True)
class Feature:
    """One per-unit column of `unit_events`."""

    event: str
    aggregation: Literal["count", "sum"]
    window_hours: float | None
    period: Period


def unit_bounds(
    first_at: ColumnElement[Any], features: Sequence[Feature], with_covariate: bool
) -> tuple[list[float], list[Label[Any]]]:
    """The attribution windows' lengths (hours, ascending) and, per unit, the timestamps that
    bound them (`window_end_{index}`) and the pre-period start (`pre_start`, with CUPED).

    Computed once per unit, so joins compare timestamps (index-friendly, no date arithmetic per
    event) instead of seconds elapsed per feature; `aggregate` and the backfill share them.
    """
    windows = sorted({f.window_hours for f in features if f.window_hours is not None})
    columns = [
        shifted_timestamp(first_at, hours * 3600.0 + BOUNDARY_TOLERANCE_SECONDS).label(
            f"window_end_{index}"
        )
        for index, hours in enumerate(windows)
    ]
    if with_covariate:
        pre_start = -PRE_PERIOD_DAYS * 86400.0 - BOUNDARY_TOLERANCE_SECONDS
        columns.append(shifted_timestamp(first_at, pre_start).label("pre_start"))
    return windows, columns


def needed_features(metrics: Sequence[MetricDefinition], with_covariate: set[str]) -> list[Feature]:
    """The distinct per-unit columns the metrics need, in a stable order."""
    found: dict[Feature, None] = {}
    for metric in metrics:
        periods: tuple[Period, ...] = ("post", "pre") if metric.key in with_covariate else ("post",)
        sides: list[tuple[str, Aggregation]] = [
            (metric.numerator_event, metric.numerator_aggregation)
        ]
        if metric.denominator_event is not None:
            sides.append((metric.denominator_event, metric.denominator_aggregation))
        if metric.numerator_unless is not None:
            sides.append((metric.numerator_unless, "any"))
        for period in periods:
            for event, aggregation in sides:
                kind: Literal["count", "sum"] = "sum" if aggregation == "sum" else "count"
                found[Feature(event, kind, metric.window_hours, period)] = None
    return list(found)


def feature_value(
    feature: Feature, conversions: Any, first_at: Any, window_ends: dict[float, Any]
) -> ColumnElement[Any]:
    # Events outside the pre-period, after `end` or of other names never reach this point:
    # the join condition filtered them out.
    conditions = [conversions.name == feature.event]
    if feature.period == "post":
        conditions.append(conversions.timestamp >= first_at)
        if feature.window_hours is not None:
            conditions.append(conversions.timestamp < window_ends[feature.window_hours])
    else:
        conditions.append(conversions.timestamp < first_at)
    amount: Any = func.coalesce(conversions.value, 0.0) if feature.aggregation == "sum" else 1
    return case((and_(*conditions), amount), else_=0)


def metric_sides(metric: MetricDefinition, feature: Any, period: Period) -> tuple[Any, Any]:
    """Per-unit numerator (unless-rule and cap applied) and denominator of `metric`."""
    window = metric.window_hours
    numerator = feature(metric.numerator_event, metric.numerator_aggregation, window, period)
    if metric.numerator_unless is not None:
        blocked = feature(metric.numerator_unless, "any", window, period)
        numerator = case((blocked > 0, 0.0), else_=numerator)
    if metric.cap is not None:
        numerator = smaller_of(numerator, float(metric.cap))
    if metric.denominator_event is None:
        return numerator, literal(1.0)
    denominator = feature(metric.denominator_event, metric.denominator_aggregation, window, period)
    return numerator, denominator
