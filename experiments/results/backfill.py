"""Daily cumulative sufficient statistics for many looks out of one pass over the events.

`aggregate` answers one end; a backfill of K looks would run it K times, reading every event K
times. Here each unit's events are bucketed once into looks (the first look end at or after the
event) and, per unit and look, a window function accumulates the unit's features. The metric
values are then the same expressions as in `aggregate` over those cumulative features, and each
unit-look row adds to its variant's sums only the *change* since the unit's previous row (the
sum of squares of a unit's cumulative revenue grows by the difference of squares on each look it
buys). Summed per variant and look and accumulated over looks in Python, this gives exactly the
sums `aggregate` would give at each end (docs/results.md, "Backfill").

Attribution is `aggregate`'s at every end: a unit's start is its first exposure, and a unit
exposed to a second variant leaves every metric (and joins the "several variants" count) from
the look that sees that second exposure on. All SQL is portable SQLAlchemy Core with window
functions (SQLite >= 3.25, PostgreSQL); the two dialect-specific expressions are
`sql_functions`'.
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
    text,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnElement, CompoundSelect, Select

from experiments.metrics import Aggregation, MetricDefinition
from experiments.models import Conversion, Exposure
from experiments.results.aggregation import (
    _BOUNDARY_TOLERANCE_SECONDS,
    PRE_PERIOD_DAYS,
    Aggregates,
    VariantSums,
    _Feature,
    _feature_value,
    _features,
    _sides,
)
from experiments.results.sql_functions import shifted_timestamp

_STATISTICS = 10  # VariantSums fields after n
_NONZERO = _STATISTICS - 1  # position of `nonzero_units`, an int
# Where a statistic's change comes from when it is not a column of its own (see _changes_query).
_ZERO, _UNITS, _NUMERATOR, _COVARIATE = -1, -2, -3, -4
_COVARIATE_POSITION = 5  # position of `covariate_sum` among the statistics


def daily_aggregates(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    ends: Sequence[datetime],
    *,
    cuped: bool = True,
) -> list[Aggregates]:
    """`aggregate(connection, experiment, variants, metrics, end)` for every end of `ends`
    (ascending), from one query."""
    if not ends or list(ends) != sorted(ends):
        raise ValueError("ends must be a non-empty ascending sequence")
    query, columns = _build_query(experiment, metrics, list(ends), cuped=cuped)
    looks = len(ends)
    units = {variant: [0] * looks for variant in variants}
    several = [0] * looks
    totals = {
        metric.key: {variant: [[0.0] * _STATISTICS for _ in range(looks)] for variant in variants}
        for metric in metrics
    }
    for row in _rows_without_jit(connection, query):
        variant, look = row[0], int(row[1])
        several[look] += int(row[3] or 0)
        if variant not in units:
            continue
        units[variant][look] += int(row[2] or 0)
        for metric in metrics:
            target = totals[metric.key][variant][look]
            sources = columns[metric.key]
            for position, index in enumerate(sources):
                if index == _NUMERATOR:
                    index = sources[0]
                elif index == _COVARIATE:
                    index = sources[_COVARIATE_POSITION]
                elif index == _UNITS:
                    index = 2
                if index != _ZERO:
                    target[position] += float(row[index] or 0.0)
    return _accumulate(variants, metrics, units, several, totals)


def _rows_without_jit(connection: Connection, query: CompoundSelect[Any]) -> list[Sequence[Any]]:
    """Run the backfill query; on PostgreSQL with JIT compilation off for it.

    The per-unit subplans inflate the planner's cost estimate far above `jit_above_cost`, and
    compiling the query's ~400 expressions took 3 of its 5.3 s at 100,000 units (EXPLAIN
    ANALYZE, docs/benchmarks.md); the query runs in about 2 s without it.
    """
    if connection.dialect.name != "postgresql":
        return list(connection.execute(query))
    previous = connection.execute(text("SELECT current_setting('jit')")).scalar_one()
    connection.execute(text("SELECT set_config('jit', 'off', true)"))
    try:
        return list(connection.execute(query))
    finally:
        connection.execute(text("SELECT set_config('jit', :value, true)"), {"value": previous})


def _accumulate(
    variants: Sequence[str],
    metrics: Sequence[MetricDefinition],
    units: dict[str, list[int]],
    several: list[int],
    totals: dict[str, dict[str, list[list[float]]]],
) -> list[Aggregates]:
    """Running sums over looks of the per-look changes."""
    result = []
    running_units = dict.fromkeys(variants, 0)
    running_several = 0
    running = {m.key: {v: [0.0] * _STATISTICS for v in variants} for m in metrics}
    for look, several_here in enumerate(several):
        running_several += several_here
        metric_sums: dict[str, dict[str, VariantSums]] = {m.key: {} for m in metrics}
        for variant in variants:
            running_units[variant] += units[variant][look]
            for metric in metrics:
                sums = running[metric.key][variant]
                for position, change in enumerate(totals[metric.key][variant][look]):
                    sums[position] += change
                metric_sums[metric.key][variant] = _variant_sums(running_units[variant], sums)
        result.append(Aggregates(dict(running_units), running_several, metric_sums))
    return result


def _variant_sums(units: int, sums: list[float]) -> VariantSums:
    return VariantSums(
        units,
        numerator_sum=sums[0],
        numerator_sum_squares=sums[1],
        denominator_sum=sums[2],
        denominator_sum_squares=sums[3],
        cross_sum=sums[4],
        covariate_sum=sums[5],
        covariate_sum_squares=sums[6],
        covariate_cross_sum=sums[7],
        covariate_denominator_cross_sum=sums[8],
        nonzero_units=round(sums[_NONZERO]),
    )


def _look_of(moment: Any, ends: list[datetime], low: int, high: int) -> ColumnElement[Any]:
    """Index of the first end at or after `moment` (a binary search of nested CASEs)."""
    if low == high:
        return literal(low, Integer)
    middle = (low + high) // 2
    return case(
        (moment <= ends[middle], _look_of(moment, ends, low, middle)),
        else_=_look_of(moment, ends, middle + 1, high),
    )


def _build_query(
    experiment: str, metrics: Sequence[MetricDefinition], ends: list[datetime], *, cuped: bool
) -> tuple[CompoundSelect[Any], dict[str, list[int]]]:
    exposures = Exposure.__table__.c  # type: ignore[attr-defined]
    conversion_table = Conversion.__table__  # type: ignore[attr-defined]
    conversions = conversion_table.c
    end = ends[-1]
    last = len(ends) - 1
    with_covariate = {m.key for m in metrics if cuped}
    features = _features(metrics, with_covariate)
    labels = {feature: f"f{index}" for index, feature in enumerate(features)}

    # Per unit: its first exposure (the start) and, for the few units seen in several variants
    # (min <> max, as in `aggregate`), the variant of that first exposure and the earliest
    # exposure to another variant, by two index searches each.
    first_at = func.min(exposures.timestamp)
    windows = sorted({f.window_hours for f in features if f.window_hours is not None})
    bound_columns = [
        shifted_timestamp(first_at, hours * 3600.0 + _BOUNDARY_TOLERANCE_SECONDS).label(
            f"window_end_{index}"
        )
        for index, hours in enumerate(windows)
    ]
    if with_covariate:
        pre_start = -PRE_PERIOD_DAYS * 86400.0 - _BOUNDARY_TOLERANCE_SECONDS
        bound_columns.append(shifted_timestamp(first_at, pre_start).label("pre_start"))
    grouped = (
        select(
            exposures.unit_id,
            first_at.label("first_at"),
            func.min(exposures.variant).label("low"),
            func.max(exposures.variant).label("high"),
            *bound_columns,
        )
        .where(exposures.experiment == experiment, exposures.timestamp <= end)
        .group_by(exposures.unit_id)
        .subquery("grouped")
    )
    several = grouped.c.low != grouped.c.high
    earliest = Exposure.__table__.alias("earliest")  # type: ignore[attr-defined]
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
    other = Exposure.__table__.alias("other")  # type: ignore[attr-defined]
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
    window_ends = {hours: unit[f"window_end_{index}"] for index, hours in enumerate(windows)}
    # Pre-period events (CUPED) count from the unit's first look, like every later look.
    event_look = case(
        (conversions.timestamp < unit.first_at, unit.first_look),
        else_=_look_of(conversions.timestamp, ends, 0, last),
    )
    events = select(
        *carried,
        event_look.label("look"),
        *(
            _feature_value(feature, conversions, unit.first_at, window_ends).label(labels[feature])
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
    labels: dict[_Feature, str],
    with_covariate: set[str],
) -> tuple[Select[Any], dict[str, list[int]]]:
    """Per variant and look: units entering, units entering several variants, and for every
    metric the change of its ten sums (each unit's value now minus at its previous row).

    A unit counts (is *active*) from its first look until the look that sees it in a second
    variant, where it has a row; its previous row was active unless this row is after that
    look. (At a unit's first row the previous values are all 0, whatever the flag says.) The
    unit counts themselves come from `units` (see `_build_query`); these rows add none.
    """
    row = per_look.c
    several = row.several_look.is_not(None)
    active = case((and_(several, row.look >= row.several_look), 0.0), else_=1.0)
    active_before = case((and_(several, row.look > row.several_look), 0.0), else_=1.0)

    def reader(previous: bool) -> Any:
        def feature(event: str, aggregation: Aggregation, window: float | None, period: Any) -> Any:
            label = labels[
                _Feature(event, "sum" if aggregation == "sum" else "count", window, period)
            ]
            total: Any = row[f"c_{label}"]
            if previous:
                total = total - row[f"g_{label}"]
            total = func.coalesce(total, 0.0)
            if aggregation == "any":
                return case((total > 0, 1.0), else_=0.0)
            return cast(total, Float)

        return feature

    outputs: list[ColumnElement[Any]] = [
        row.variant,
        row.look,
        literal(0),
        literal(0),
    ]
    columns: dict[str, list[int]] = {}
    for metric in metrics:
        now_and_before = []
        for previous, weight in ((False, active), (True, active_before)):
            numerator, denominator = _sides(metric, reader(previous), "post")
            covariate: Any = literal(0.0)
            if metric.key in with_covariate:
                covariate = _sides(metric, reader(previous), "pre")[0]
            now_and_before.append((weight * numerator, weight * denominator, weight * covariate))
        (x, y, z), (xp, yp, zp) = now_and_before
        # Sums that follow from others are not computed per row: a denominator of 1 is the
        # unit count, an uncapped "any" numerator is its own square, no covariate sums to 0.
        wanted: list[ColumnElement[Any] | int] = [
            x - xp,
            _NUMERATOR if _is_indicator(metric) else x * x - xp * xp,
        ]
        if metric.denominator_event is None:
            wanted += [_UNITS, _UNITS, _NUMERATOR]
        else:
            wanted += [y - yp, y * y - yp * yp, x * y - xp * yp]
        if metric.key in with_covariate:
            wanted += [z - zp, z * z - zp * zp, x * z - xp * zp]
            wanted.append(_COVARIATE if metric.denominator_event is None else y * z - yp * zp)
        else:
            wanted += [_ZERO, _ZERO, _ZERO, _ZERO]
        # Units whose denominator (ratio) or value is not zero, now minus before.
        counted, counted_before = (y, yp) if metric.kind == "ratio" else (x, xp)
        wanted.append(_nonzero(counted) - _nonzero(counted_before))
        sources = []
        for change in wanted:
            if isinstance(change, int):
                sources.append(change)
            else:
                sources.append(len(outputs))
                outputs.append(func.sum(change))
        columns[metric.key] = sources
    query = select(*outputs).group_by(row.variant, row.look)
    return query, columns


def _nonzero(value: Any) -> Any:
    return case((value != 0, 1.0), else_=0.0)


def _is_indicator(metric: MetricDefinition) -> bool:
    """Whether the per-unit numerator is always 0 or 1 (an uncapped `any`)."""
    return metric.numerator_aggregation == "any" and metric.cap is None
