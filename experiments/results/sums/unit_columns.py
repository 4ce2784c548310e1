"""The per-unit columns ("features") the results queries read, and their bounds.

A feature is one per-unit count or sum of an event, after the unit's first exposure (within a
window) or in the pre-period before it (CUPED), of the events sent with the kinds of key the
metric counts (`MetricDefinition.sources`). `aggregate` (one end) and the backfill (many looks)
build the same features, bounds and metric sides from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import Table, Text, and_, any_, bindparam, case, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import ColumnElement, Label, Select, Subquery

from experiments.models.api_key import EventSource
from experiments.models.event import Conversion, Exposure
from experiments.models.metric import Aggregation, MetricDefinition
from experiments.results.sums.sql_functions import (
    first_attributes,
    shifted_timestamp,
    smaller_of,
)

PRE_PERIOD_DAYS = 14
# SQLite computes a unit's bounds with julianday() and writes them to the millisecond (up to
# about half a millisecond off); a millisecond of slack keeps events exactly on a bound counted
# on both databases.
BOUNDARY_TOLERANCE_SECONDS = 0.001

MULTI_VARIANT = "*several*"  # the variant of units seen in several variants (never a slug)

Period = Literal["post", "pre"]
EXPOSURES: Table = Exposure.__table__  # type: ignore[attr-defined]
CONVERSIONS: Table = Conversion.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Feature:
    """One per-unit column of `unit_events`."""

    event: str
    aggregation: Literal["count", "sum"]
    window_hours: float | None
    period: Period
    sources: tuple[EventSource, ...] | None = None  # the events' sources counted; None: all


FeatureReader = Callable[[Feature, Aggregation], Any]
"""A feature's per-unit value as a query reads it: its count or sum, or for `any` 1 when that
is above 0, else 0."""


def side_feature(
    metric: MetricDefinition, event: str, aggregation: Aggregation, period: Period
) -> Feature:
    """The feature one side of `metric` reads (`any` reads the count)."""
    sources = None if metric.sources is None else tuple(sorted(metric.sources))
    kind: Literal["count", "sum"] = "sum" if aggregation == "sum" else "count"
    return Feature(event, kind, metric.window_hours, period, sources)


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


@dataclass(frozen=True, slots=True)
class EventIds:
    """An exposure id and a conversion id: as a look's ceiling, the largest of each it counts
    (`ingestion_marks`: events stored after it have larger ids)."""

    exposures: int
    conversions: int


@dataclass(frozen=True, slots=True)
class UnitRange:
    """The units whose id is at least `low` and below `high` (None: no bound on that side)."""

    low: str | None = None
    high: str | None = None

    def conditions(self, unit_id: ColumnElement[str]) -> list[ColumnElement[bool]]:
        """The conditions that keep a row of `unit_id` in the range."""
        bounds = [] if self.low is None else [unit_id >= self.low]
        return bounds + ([] if self.high is None else [unit_id < self.high])


EVERY_UNIT = UnitRange()


UnitSet = Select[Any] | list[str]
"""The units a look recomputes (`incremental`): a query of their ids, or on PostgreSQL the ids
themselves, bound as one array, so the planner knows how few they are and looks them up in the
indexes instead of scanning both tables."""


def among(column: ColumnElement[Any], units: UnitSet) -> ColumnElement[bool]:
    """`column` is one of `units`."""
    if isinstance(units, list):
        return column == any_(bindparam("units", units, type_=ARRAY(Text)))
    return column.in_(units)


class UnitFeatures(NamedTuple):
    """What a results query computes per unit for its metrics: which metrics carry a CUPED
    covariate, the distinct features with their column labels (`f{index}`), the unit's first
    exposure, and the attribution windows with the columns bounding them (`unit_bounds`)."""

    with_covariate: set[str]
    features: list[Feature]
    labels: dict[Feature, str]
    first_at: ColumnElement[Any]
    windows: list[float]
    bound_columns: list[Label[Any]]


def unit_features(metrics: Sequence[MetricDefinition], cuped: bool) -> UnitFeatures:
    """The per-unit columns `metrics` need, with every metric's covariate when `cuped`."""
    with_covariate = {m.key for m in metrics if cuped}
    features = needed_features(metrics, with_covariate)
    first_at = func.min(EXPOSURES.c.timestamp)
    windows, bound_columns = unit_bounds(first_at, features, bool(with_covariate))
    labels = {feature: f"f{index}" for index, feature in enumerate(features)}
    return UnitFeatures(with_covariate, features, labels, first_at, windows, bound_columns)


PERIOD = "period"
"""The label of a unit's update period in the results queries."""


def period_column(first_at: ColumnElement[Any], boundaries: Sequence[datetime]) -> Label[Any]:
    """The update period of a unit first exposed at `first_at`: the number of `boundaries`
    (ascending starts of periods 1, 2, ...) at or before it."""
    whens = [(first_at < start, literal(index)) for index, start in enumerate(boundaries)]
    return case(*whens, else_=literal(len(boundaries))).label(PERIOD)


ATTRIBUTES = "first_attributes"
"""The label of a unit's first exposure's attributes (JSON text, '' for none) in the queries."""


def exposed_units(
    experiment: str,
    end: datetime,
    found: UnitFeatures,
    variant_columns: Sequence[ColumnElement[Any]],
    name: str,
    dimensions: Sequence[str] = (),
    periods: Sequence[datetime] = (),
    ceiling: EventIds | None = None,
    units: UnitSet | None = None,
    span: UnitRange = EVERY_UNIT,
) -> Subquery:
    """One row per unit exposed to `experiment` up to `end`: its id, first exposure, the
    `variant_columns` (aggregates over its exposures), its window bounds, with `dimensions`
    its first exposure's attributes (`ATTRIBUTES`): a later exposure never moves a unit's
    levels, an earlier one arriving late does; and with `periods` (the starts of a bandit's
    update periods after the first) the period of its first exposure (`PERIOD`). With
    `ceiling`, only the exposures up to its id; with `units`, only those units; with `span`,
    only the units in it (`unit_parts`)."""
    exposures = EXPOSURES.c
    first = first_attributes(exposures.timestamp, exposures.attributes).label(ATTRIBUTES)
    conditions = [exposures.experiment == experiment, exposures.timestamp <= end]
    if ceiling is not None:
        conditions.append(exposures.id <= ceiling.exposures)
    if units is not None:
        conditions.append(among(exposures.unit_id, units))
    conditions += span.conditions(exposures.unit_id)
    return (
        select(
            exposures.unit_id,
            found.first_at.label("first_at"),
            *variant_columns,
            *found.bound_columns,
            *([first] if dimensions else []),
            *([period_column(found.first_at, periods)] if periods else []),
        )
        .where(*conditions)
        .group_by(exposures.unit_id)
        .subquery(name)
    )


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
                found[side_feature(metric, event, aggregation, period)] = None
    return list(found)


def feature_value(
    feature: Feature,
    conversions: Any,
    first_at: Any,
    window_ends: dict[float, Any],
    within: Sequence[ColumnElement[bool]] = (),
) -> ColumnElement[Any]:
    """A joined conversion's amount in `feature` (1 for a count, its value for a sum), 0 when
    it does not count there; `within`: further conditions it must meet to count."""
    # Events outside the pre-period, after `end` or of other names never reach this point:
    # the join condition filtered them out.
    # The name first: most joined conversions are of another feature's event, and both
    # databases stop at the first condition that fails.
    conditions = [conversions.name == feature.event, *within]
    if feature.sources is not None:
        conditions.append(conversions.source.in_(feature.sources))  # bound parameters
    if feature.period == "post":
        conditions.append(conversions.timestamp >= first_at)
        if feature.window_hours is not None:
            conditions.append(conversions.timestamp < window_ends[feature.window_hours])
    else:
        conditions.append(conversions.timestamp < first_at)
    amount: Any = func.coalesce(conversions.value, 0.0) if feature.aggregation == "sum" else 1
    return case((and_(*conditions), amount), else_=0)


def metric_sides(metric: MetricDefinition, read: FeatureReader, period: Period) -> tuple[Any, Any]:
    """Per-unit numerator (unless-rule and cap applied) and denominator of `metric`."""

    def side(event: str, aggregation: Aggregation) -> Any:
        return read(side_feature(metric, event, aggregation, period), aggregation)

    numerator = side(metric.numerator_event, metric.numerator_aggregation)
    if metric.numerator_unless is not None:
        blocked = side(metric.numerator_unless, "any")
        numerator = case((blocked > 0, 0.0), else_=numerator)
    if metric.cap is not None:
        numerator = smaller_of(numerator, float(metric.cap))
    if metric.denominator_event is None:
        return numerator, literal(1.0)
    return numerator, side(metric.denominator_event, metric.denominator_aggregation)


def equal_sums(metric: MetricDefinition, covariate: bool) -> dict[str, str]:
    """The sums of `metric` that equal another of its sums by construction (name -> that sum's
    name), so a query computes only the latter and reads its column for both.

    A side whose per-unit value is always 0 or 1 (an uncapped `any` numerator, with or without
    its unless-rule, or an `any` denominator) is its own square, and the units where it is not
    zero are its sum; both hold exactly in floating point, since such a sum is a whole number.
    """
    numerator = metric.numerator_aggregation == "any" and metric.cap is None
    ratio = metric.kind == "ratio"
    denominator = ratio and metric.denominator_aggregation == "any"
    equal: dict[str, str] = {}
    if numerator:
        equal["numerator_sum_squares"] = "numerator_sum"
        if covariate:
            equal["covariate_sum_squares"] = "covariate_sum"
        if not ratio:
            equal["nonzero_units"] = "numerator_sum"
    if denominator:
        equal["denominator_sum_squares"] = "denominator_sum"
        equal["nonzero_units"] = "denominator_sum"
        if covariate:
            equal["pre_denominator_sum_squares"] = "pre_denominator_sum"
    return equal
