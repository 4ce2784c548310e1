"""The backfill's one SQL query: per unit and look, the change of each metric's statistics.

Each unit's events are bucketed into looks (the first look end at or after the event); a window
function accumulates the unit's features per look, and each unit-look row carries only the
change since the unit's previous row. `backfill.daily_aggregates` sums and accumulates them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.expression import ColumnElement, CompoundSelect, Select

from experiments.models.metric import Aggregation, MetricDefinition
from experiments.results.aggregation import COVARIATE_FIELDS, TOTALS_FIELDS
from experiments.results.features import (
    CONVERSIONS,
    EXPOSURES,
    Feature,
    exposed_units,
    feature_value,
    metric_sides,
    unit_features,
)

# The values of `VariantSums.flat()` after n, one change column each, and where the covariate's
# sums start among them.
STATISTICS = TOTALS_FIELDS - 1 + COVARIATE_FIELDS + 1
COVARIATE_POSITION = TOTALS_FIELDS - 1
# Where a statistic's change comes from when it is not a column of its own (see _changes_query).
ZERO, UNITS, NUMERATOR, COVARIATE = -1, -2, -3, -4


def _look_of(moment: Any, ends: list[datetime], low: int, high: int) -> ColumnElement[Any]:
    """Index of the first end at or after `moment` (a binary search of nested CASEs)."""
    if low == high:
        return literal(low, Integer)
    middle = (low + high) // 2
    return case(
        (moment <= ends[middle], _look_of(moment, ends, low, middle)),
        else_=_look_of(moment, ends, middle + 1, high),
    )


def build_query(
    experiment: str, metrics: Sequence[MetricDefinition], ends: list[datetime], *, cuped: bool
) -> tuple[CompoundSelect[Any], dict[str, list[int]]]:
    exposures, conversion_table = EXPOSURES.c, CONVERSIONS
    conversions = conversion_table.c
    end = ends[-1]
    last = len(ends) - 1
    found = unit_features(metrics, cuped)
    with_covariate, features, labels = found.with_covariate, found.features, found.labels
    bound_columns = found.bound_columns

    # Per unit: its first exposure (the start) and, for the few units seen in several variants
    # (min <> max, as in `aggregate`), the variant of that first exposure and the earliest
    # exposure to another variant, by two index searches each.
    variant_columns = [
        func.min(exposures.variant).label("low"),
        func.max(exposures.variant).label("high"),
    ]
    grouped = exposed_units(experiment, end, found, variant_columns, "grouped")
    several = grouped.c.low != grouped.c.high
    earliest = EXPOSURES.alias("earliest")
    first_variant = (
        select(earliest.c.variant)
        .where(
            earliest.c.experiment == experiment,
            earliest.c.unit_id == grouped.c.unit_id,
            earliest.c.timestamp <= end,
        )
        .order_by(earliest.c.timestamp, earliest.c.variant)
        .limit(1)
        .correlate(grouped)  # also where it is nested in `other_at` below
        .scalar_subquery()
    )
    other = EXPOSURES.alias("other")
    other_at = (
        select(func.min(other.c.timestamp))
        .where(
            other.c.experiment == experiment,
            other.c.unit_id == grouped.c.unit_id,
            other.c.timestamp <= end,
            other.c.variant != first_variant,
        )
        .correlate(grouped)
        .scalar_subquery()
    )
    pre_units = select(
        grouped.c.unit_id,
        grouped.c.first_at,
        case((several, first_variant), else_=grouped.c.low).label("variant"),
        case((several, other_at), else_=null()).label("several_at"),
        *(grouped.c[column.name] for column in bound_columns),
    ).subquery("pre_units")
    pre = pre_units.c
    units = select(
        pre.unit_id,
        pre.first_at,
        pre.variant,
        # The looks are computed once per unit here rather than once per event below.
        _look_of(pre.first_at, ends, 0, last).label("first_look"),
        case(
            (pre.several_at.is_(None), null()), else_=_look_of(pre.several_at, ends, 0, last)
        ).label("several_look"),
        *(pre[column.name] for column in bound_columns),
    ).cte("units")
    unit = units.c
    zeros = [literal(0.0, Float).label(labels[feature]) for feature in features]
    carried = (unit.unit_id, unit.variant, unit.several_look)
    # A unit without events has the value 0 on every side a row would carry (denominators of 1
    # are counted from `units` directly), so only looks with events, and the look that sees a
    # unit in a second variant (its values leave the sums), need rows.
    entering_several = select(*carried, unit.several_look.label("look"), *zeros).where(
        unit.several_look.is_not(None)
    )
    window_ends = {hours: unit[f"window_end_{index}"] for index, hours in enumerate(found.windows)}
    # Pre-period events (CUPED) count from the unit's first look, like every later look.
    event_look = case(
        (conversions.timestamp < unit.first_at, unit.first_look),
        else_=_look_of(conversions.timestamp, ends, 0, last),
    )
    events = select(
        *carried,
        event_look.label("look"),
        *(
            feature_value(feature, conversions, unit.first_at, window_ends).label(labels[feature])
            for feature in features
        ),
    ).select_from(
        units.join(
            conversion_table,
            and_(
                conversions.unit_id == unit.unit_id,
                conversions.name.in_(sorted({feature.event for feature in features})),
                conversions.timestamp <= end,
                conversions.timestamp >= (unit.pre_start if with_covariate else unit.first_at),
            ),
        )
    )
    rows = union_all(entering_several, events).subquery("rows")

    # Per unit and look: each feature accumulated over the unit's looks so far (`c`), and its
    # change at this look (`g`), so the value at the unit's previous row is `c - g`: no LAG.
    cumulative = [
        func.sum(func.sum(rows.c[labels[feature]]))
        .over(partition_by=rows.c.unit_id, order_by=rows.c.look)
        .label(f"c_{labels[feature]}")
        for feature in features
    ]
    here = [func.sum(rows.c[labels[f]]).label(f"g_{labels[f]}") for f in features]
    per_look = (
        select(
            func.max(rows.c.variant).label("variant"),
            rows.c.look,
            func.max(rows.c.several_look).label("several_look"),
            *cumulative,
            *here,
        )
        .group_by(rows.c.unit_id, rows.c.look)
        .subquery("per_look")
    )
    changes, columns = _changes_query(per_look, metrics, labels, with_covariate)
    # Units entering each variant at each look (+1 at the first look, -1 at the look that sees
    # them in a second variant) and entering the "several variants" count.
    entering = union_all(
        select(
            unit.variant,
            unit.first_look.label("look"),
            literal(1).label("units"),
            literal(0).label("several"),
        ),
        select(
            unit.variant,
            unit.several_look.label("look"),
            literal(-1).label("units"),
            literal(1).label("several"),
        ).where(unit.several_look.is_not(None)),
    ).subquery("entering")
    padding = [null()] * (len(changes.selected_columns) - 4)
    counts = select(
        entering.c.variant,
        entering.c.look,
        func.sum(entering.c.units),
        func.sum(entering.c.several),
        *padding,
    ).group_by(entering.c.variant, entering.c.look)
    return union_all(changes, counts), columns


def _changes_query(
    per_look: Any,
    metrics: Sequence[MetricDefinition],
    labels: dict[Feature, str],
    with_covariate: set[str],
) -> tuple[Select[Any], dict[str, list[int]]]:
    """Per variant and look: units entering, units entering several variants, and for every
    metric the change of its ten sums (each unit's value now minus at its previous row).

    A unit counts (is *active*) from its first look until the look that sees it in a second
    variant, where it has a row; its previous row was active unless this row is after that
    look. (At a unit's first row the previous values are all 0, whatever the flag says.) The
    unit counts themselves come from `units` (see `build_query`); these rows add none.
    """
    row = per_look.c
    several = row.several_look.is_not(None)
    active = case((and_(several, row.look >= row.several_look), 0.0), else_=1.0)
    active_before = case((and_(several, row.look > row.several_look), 0.0), else_=1.0)
    weighted = ((_reader(row, labels, False), active), (_reader(row, labels, True), active_before))
    outputs: list[ColumnElement[Any]] = [
        row.variant,
        row.look,
        literal(0),
        literal(0),
    ]
    columns: dict[str, list[int]] = {}
    for metric in metrics:
        sources = []
        for change in _metric_changes(metric, weighted, metric.key in with_covariate):
            if isinstance(change, int):
                sources.append(change)
            else:
                sources.append(len(outputs))
                outputs.append(func.sum(change))
        columns[metric.key] = sources
    query = select(*outputs).group_by(row.variant, row.look)
    return query, columns


def _reader(row: Any, labels: dict[Feature, str], previous: bool) -> Any:
    """A feature reader (see `metric_sides`) of a unit's values at this row, or at its previous
    row (`previous`: the accumulated value minus this row's change)."""

    def feature(key: Feature, aggregation: Aggregation) -> Any:
        label = labels[key]
        total: Any = row[f"c_{label}"]
        if previous:
            total = total - row[f"g_{label}"]
        total = func.coalesce(total, 0.0)
        if aggregation == "any":
            return case((total > 0, 1.0), else_=0.0)
        return cast(total, Float)

    return feature


def _metric_changes(
    metric: MetricDefinition, weighted: tuple[tuple[Any, Any], ...], covariate: bool
) -> list[ColumnElement[Any] | int]:
    """The change of the metric's ten sums at this row, in `VariantSums.flat()` order: an expression
    to sum, or the position code of a sum that follows from others."""
    now_and_before = []
    for reader, weight in weighted:
        numerator, denominator = metric_sides(metric, reader, "post")
        pre: Any = metric_sides(metric, reader, "pre")[0] if covariate else literal(0.0)
        now_and_before.append((weight * numerator, weight * denominator, weight * pre))
    (x, y, z), (xp, yp, zp) = now_and_before
    # Sums that follow from others are not computed per row: a denominator of 1 is the
    # unit count, an uncapped "any" numerator is its own square, no covariate sums to 0.
    wanted: list[ColumnElement[Any] | int] = [
        x - xp,
        NUMERATOR if _is_indicator(metric) else x * x - xp * xp,
    ]
    if metric.denominator_event is None:
        wanted += [UNITS, UNITS, NUMERATOR]
    else:
        wanted += [y - yp, y * y - yp * yp, x * y - xp * yp]
    if covariate:
        wanted += [z - zp, z * z - zp * zp, x * z - xp * zp]
        wanted.append(COVARIATE if metric.denominator_event is None else y * z - yp * zp)
    else:
        wanted += [ZERO, ZERO, ZERO, ZERO]
    # Units whose denominator (ratio) or value is not zero, now minus before.
    counted, counted_before = (y, yp) if metric.kind == "ratio" else (x, xp)
    wanted.append(_nonzero(counted) - _nonzero(counted_before))
    return wanted


def _nonzero(value: Any) -> Any:
    return case((value != 0, 1.0), else_=0.0)


def _is_indicator(metric: MetricDefinition) -> bool:
    """Whether the per-unit numerator is always 0 or 1 (an uncapped `any`)."""
    return metric.numerator_aggregation == "any" and metric.cap is None
