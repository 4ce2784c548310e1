"""A look's per-unit values: each exposed unit once (`first_exposures`), joined to its
conversions and grouped per unit into each metric's numerator, denominator and covariates
(`unit_values`), from the features, bounds and metric sides of `unit_columns`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql.expression import ColumnElement, FromClause, Subquery

from experiments.models.metric import Aggregation, MetricDefinition
from experiments.results.sums.both_ends import (
    EARLIER,
    Cutoff,
    earlier_exposure_columns,
    earlier_feature_conditions,
    earlier_variant,
)
from experiments.results.sums.sql_functions import once_per_row, scanned
from experiments.results.sums.unit_columns import (
    ATTRIBUTES,
    CONVERSIONS,
    EVERY_UNIT,
    EXPOSURES,
    MULTI_VARIANT,
    PERIOD,
    EventIds,
    Feature,
    UnitFeatures,
    UnitRange,
    UnitSet,
    among,
    exposed_units,
    feature_value,
    metric_sides,
    unit_features,
)
from experiments.results.sums.unit_tables import POSITION


def first_exposures(
    experiment: str,
    metrics: Sequence[MetricDefinition],
    end: datetime,
    *,
    cuped: bool,
    dimensions: Sequence[str] = (),
    periods: Sequence[datetime] = (),
    ceiling: EventIds | None = None,
    units: UnitSet | None = None,
    span: UnitRange = EVERY_UNIT,
    earlier: Cutoff | None = None,
) -> Subquery:
    """The `exposed_units` that `unit_values` joins to the conversions: per unit its first
    exposure, variant (`variant`; `variant_count` 1, or 2 for several) and window bounds, once
    per unit, so the join compares timestamps (no date arithmetic per event). With `span`, the
    units in it only; with `earlier`, each with the same columns at that cutoff too
    (`both_ends`)."""
    exposures = EXPOSURES.c
    variant_columns = [
        func.min(exposures.variant).label("variant"),
        # min <> max finds units in several variants without a DISTINCT aggregate, which
        # would force PostgreSQL to sort instead of hashing the groups.
        case((func.min(exposures.variant) == func.max(exposures.variant), 1), else_=2).label(
            "variant_count"
        ),
    ]
    found = unit_features(metrics, cuped)
    if earlier is not None:
        variant_columns += earlier_exposure_columns(found, earlier, dimensions)
    return exposed_units(
        experiment,
        end,
        found,
        variant_columns,
        "first_exposure",
        dimensions,
        periods,
        ceiling,
        units,
        span,
    )


def unit_values(
    metrics: Sequence[MetricDefinition],
    end: datetime,
    *,
    cuped: bool,
    dialect: str,
    dimensions: Sequence[str] = (),
    periods: Sequence[datetime] = (),
    ceiling: EventIds | None = None,
    units: UnitSet | None = None,
    exposed: FromClause,
    earlier: Cutoff | None = None,
) -> Subquery:
    """Per unit: its group (`variant`; MULTI_VARIANT for a unit seen in several), with
    `dimensions` its first exposure's attributes (`ATTRIBUTES`), with `periods` its update
    period (`PERIOD`, `exposed_units`), and each metric's numerator,
    denominator and covariate (columns m{index}_num, _den, _cov; the covariate is 0 without
    `cuped`), and for a ratio its pre-period denominator, CUPED's second covariate
    (m{index}_pden, 0 without `cuped`). `exposed`: the rows of `first_exposures` of the same
    arguments (the query, or a table of its rows: `unit_tables`). With `ceiling`, only the
    events up to its ids count; with `units`, only those units' events are read. With
    `earlier` (a cutoff `end` and `ceiling` cover), a unit's values at both: each column beside
    its copy at `earlier` (`EARLIER`; the variant NULL for a unit not exposed by then)."""
    if earlier is not None and periods:
        raise ValueError("a look at two ends has no update periods")
    conversion_table = CONVERSIONS
    conversions = conversion_table.c
    found = unit_features(metrics, cuped)
    with_covariate, features, labels = found.with_covariate, found.features, found.labels
    unit = exposed.c
    window_ends = {hours: unit[f"window_end_{index}"] for index, hours in enumerate(found.windows)}

    # One pass: every exposed unit meets its own events (or none, through the outer join) and
    # is grouped once. Read twice, PostgreSQL would materialise the exposed units and lose their
    # row estimates, and SQLite build a temporary index.
    alone = unit.variant_count == 1
    join_conditions = [
        conversions.unit_id == unit.unit_id,
        # At two ends the earlier's first exposure is not before the later's, so neither is
        # its pre-period: the later's bounds read every event either counts.
        alone if earlier is None else or_(alone, unit[f"{EARLIER}variant_count"] == 1),
        scanned(conversions.name).in_(sorted({feature.event for feature in features})),
        conversions.timestamp <= end,
        conversions.timestamp >= (unit.pre_start if with_covariate else unit.first_at),
    ]
    if ceiling is not None:
        join_conditions.append(conversions.id <= ceiling.conversions)
    if units is not None and dialect == "postgresql":
        # Redundant with the exposures' condition, but it lets PostgreSQL's planner read only
        # these units' conversions (SQLite searches them unit by unit anyway).
        join_conditions.append(among(conversions.unit_id, units))
    # A table of the units (`unit_tables`) is grouped by its rows' numbers, one per unit.
    unit_keys: list[ColumnElement[Any]] = [unit.get(POSITION, unit.unit_id)]
    if dialect == "postgresql":
        # The conversion's unit_id is the exposed unit's or NULL, so adding it still groups per
        # unit, and it has column statistics: by the subquery's unit_id alone PostgreSQL guesses
        # 200 groups instead of one per unit and picks plans that spill. (SQLite would then
        # read conversions through a non-covering index, hence only here.)
        unit_keys.append(conversions.unit_id)
    variant = case((unit.variant_count > 1, literal(MULTI_VARIANT)), else_=unit.variant)

    def carried(column: ColumnElement[Any], label: str) -> ColumnElement[Any]:
        """A column of the unit's one first exposure through the grouping: max() carries it; by
        a table's row number SQLite reads it as it is (a group is that one row's)."""
        return (column if POSITION in unit else func.max(column)).label(label)

    kept = [carried(variant, "variant")]
    kept += [carried(unit[ATTRIBUTES], ATTRIBUTES)] if dimensions else []
    kept += [carried(unit[PERIOD], PERIOD)] if periods else []
    # At two ends a conversion is joined for either; it counts at the later only for a unit
    # alone in its variant then.
    now = [] if earlier is None else [alone]
    sums = [
        func.sum(feature_value(feature, conversions, unit.first_at, window_ends, now)).label(
            labels[feature]
        )
        for feature in features
    ]
    if earlier is not None:
        kept.append(carried(earlier_variant(unit), f"{EARLIER}variant"))
        if dimensions:
            kept.append(carried(unit[f"{EARLIER}{ATTRIBUTES}"], f"{EARLIER}{ATTRIBUTES}"))
        first_then = unit[f"{EARLIER}first_at"]
        ends_then = {
            hours: unit[f"{EARLIER}window_end_{index}"] for index, hours in enumerate(found.windows)
        }
        for feature in features:
            then = earlier_feature_conditions(unit, conversions, earlier, feature.period)
            value = feature_value(feature, conversions, first_then, ends_then, then)
            sums.append(func.sum(value).label(f"{EARLIER}{labels[feature]}"))
    unit_events = (
        select(*kept, *sums)
        .select_from(exposed.outerjoin(conversion_table, and_(*join_conditions)))
        .group_by(*unit_keys)
        .subquery("unit_events")
    )
    passed = [column.name for column in kept if not column.name.startswith(EARLIER)]
    values = select(*(unit_events.c[name] for name in passed))
    values = values.add_columns(*_metric_values(metrics, found, unit_events, ""))
    if earlier is not None:
        values = values.add_columns(
            *(unit_events.c[f"{EARLIER}{name}"] for name in passed),
            *_metric_values(metrics, found, unit_events, EARLIER),
        )
    return once_per_row(values).subquery("unit_values")


def _metric_values(
    metrics: Sequence[MetricDefinition], found: UnitFeatures, unit_events: Subquery, prefix: str
) -> list[ColumnElement[Any]]:
    """Each metric's per-unit numerator, denominator, covariate (and a ratio's pre-period
    denominator) from the features of `unit_events` whose labels start with `prefix`, labelled
    `{prefix}m{index}_num` and so on."""

    def feature(key: Feature, aggregation: Aggregation) -> Any:
        total = func.coalesce(unit_events.c[f"{prefix}{found.labels[key]}"], 0.0)
        if aggregation == "any":
            return case((total > 0, 1.0), else_=0.0)
        return cast(total, Float)

    columns: list[ColumnElement[Any]] = []
    for index, metric in enumerate(metrics):
        numerator, denominator = metric_sides(metric, feature, "post")
        covariate: Any = literal(0.0)
        pre_denominator: Any = literal(0.0)
        if metric.key in found.with_covariate:
            covariate, pre_denominator = metric_sides(metric, feature, "pre")
        columns += [
            numerator.label(f"{prefix}m{index}_num"),
            denominator.label(f"{prefix}m{index}_den"),
            covariate.label(f"{prefix}m{index}_cov"),
        ]
        if metric.kind == "ratio":
            columns.append(pre_denominator.label(f"{prefix}m{index}_pden"))
    return columns
