"""A quantile metric's per-variant summaries (`stats.quantiles.QuantileSums`), computed in SQL
beside the look's main aggregation, on SQLite and PostgreSQL alike.

The values are those of the metric's numerator event (its `value`; events without one are left
out), attributed as every other metric's (docs/results.md): sent by an exposed unit of one
variant, at or after its first exposure, within the metric's window, not after the end, with a
kind of key the metric counts. No per-unit row leaves the database; one query, with a second
only where the first's window falls short:
1. per variant: exposed units, values N, units with a value, sum N_i^2 (N_i: a unit's values),
   the value at the quantile's rank ceil(level N) (by ROW_NUMBER() over the values in order),
   and with S_i a unit's values at or below that value: sum S_i, S_i^2, S_i N_i; and beside
   those rows, the values at the ranks within `WINDOW` of the quantile's rank. The units'
   values and their ranking are CTEs read more than once, so the database computes them once;
2. the interval's ends are interpolated between the values at the whole ranks around the two
   DKY positions (`stats.quantiles.dky_ranks`) the sums give. They lie within the window unless
   the units' values cluster strongly (a half-width over 4 sqrt(N) + 8 ranks): only then does a
   second query read the ranks the window missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import Float, Integer, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import CTE, ColumnElement, Select

from experiments.models.metric import MetricDefinition
from experiments.results.sums.unit_columns import (
    CONVERSIONS,
    EXPOSURES,
    EventIds,
    exposed_units,
    unit_features,
)
from stats.quantiles import (
    RANK_SLACK,
    IndicatorSums,
    QuantileSums,
    at_position,
    dky_positions,
    dky_ranks,
)

Ranks = Mapping[str, Sequence[int]]


def quantile_sums(
    connection: Connection,
    experiment: str,
    variants: Sequence[str],
    metric: MetricDefinition,
    end: datetime,
    ceiling: EventIds | None = None,
) -> dict[str, QuantileSums]:
    """Each variant's `QuantileSums` of the quantile metric `metric` at `end` (with `ceiling`,
    of the events up to its ids, as the look's other sums)."""
    level = metric.quantile
    if level is None:
        raise ValueError(f"metric '{metric.key}' has no quantile level")
    values = _unit_values(experiment, metric, end, ceiling)
    summaries, bounds = _variant_summaries(connection, values, level)
    empty = IndicatorSums(0, 0, 0.0, 0.0, 0.0, 0.0)
    valued = {key: found for key, found in summaries.items() if found.quantile is not None}
    indicators = {key: found.indicator for key, found in valued.items()}
    ranks = {key: dky_ranks(level, indicator) for key, indicator in indicators.items()}
    missed = {
        key: [rank for rank in found if (key, rank) not in bounds] for key, found in ranks.items()
    }
    bounds.update(_order_statistics(connection, values, missed))
    ends = {key: dky_positions(level, indicator) for key, indicator in indicators.items()}
    result: dict[str, QuantileSums] = {}
    for key in variants:
        units = summaries[key].units if key in summaries else 0
        if key not in valued:
            result[key] = QuantileSums(level, units, None, None, None, empty)
            continue
        low, high = (at_position(end, partial(_value_at, bounds, key)) for end in ends[key])
        result[key] = QuantileSums(level, units, valued[key].quantile, low, high, indicators[key])
    return result


def _value_at(bounds: Mapping[tuple[str, int], float], key: str, rank: int) -> float:
    return bounds[key, rank]


def _unit_values(
    experiment: str, metric: MetricDefinition, end: datetime, ceiling: EventIds | None
) -> CTE:
    """One row per exposed unit of a single variant and each value it sent (a NULL value for
    a unit without any): variant, unit_id, value."""
    found = unit_features([metric], cuped=False)
    exposures, conversions = EXPOSURES.c, CONVERSIONS.c
    variant_columns = [
        func.min(exposures.variant).label("variant"),
        func.max(exposures.variant).label("last_variant"),
    ]
    units = exposed_units(
        experiment, end, found, variant_columns, "quantile_units", ceiling=ceiling
    )
    unit = units.c
    conditions: list[ColumnElement[Any]] = [
        conversions.unit_id == unit.unit_id,
        conversions.name == metric.numerator_event,
        conversions.value.is_not(None),
        conversions.timestamp >= unit.first_at,
        conversions.timestamp <= end,
    ]
    if ceiling is not None:
        conditions.append(conversions.id <= ceiling.conversions)
    if metric.sources is not None:
        conditions.append(conversions.source.in_(sorted(metric.sources)))
    if metric.window_hours is not None:
        conditions.append(conversions.timestamp < unit.window_end_0)
    return (
        select(unit.variant, unit.unit_id, cast(conversions.value, Float).label("value"))
        .select_from(units.outerjoin(CONVERSIONS, and_(*conditions)))
        .where(unit.variant == unit.last_variant)
        .cte("quantile_values")
    )


class _Summary(NamedTuple):
    """One variant's exposed units, the value at its quantile's rank (None without values) and
    its indicator sums at that value."""

    units: int
    quantile: float | None
    indicator: IndicatorSums


WINDOW = (16, 64)
"""(a, b): the first query also reads the values whose rank r is within sqrt(a N + b) of the
quantile's rank q, (r - q)^2 <= a N + b (no square root in SQL): 4 sqrt(N) + 8 ranks or so. The
DKY interval's half-width is z sqrt(spread) ranks, spread the clustered variance of the count at
or below the quantile (`stats.quantiles.indicator_sd`), n p (1 - p) <= N / 4 for units with one
value each: the window holds it with room for units of several values."""


def _variant_summaries(
    connection: Connection, values: CTE, level: float
) -> tuple[dict[str, _Summary], dict[tuple[str, int], float]]:
    """Per variant with exposed units: their count, the value at the quantile's rank and the
    unit sums N_i, S_i at it (step 1 of the module's docstring); and the values at the ranks
    within `WINDOW` of the quantile's, by (variant, rank). One query."""
    value = values.c.value
    ranked = (
        select(
            values.c.variant,
            value,
            func.row_number().over(partition_by=values.c.variant, order_by=value).label("position"),
            func.count(value).over(partition_by=values.c.variant).label("total"),
        )
        .where(value.is_not(None))
        .cte("quantile_ranked")
    )
    # One row per variant, computed once: as a subquery PostgreSQL put it inside a nested loop
    # and sorted the values again for every unit (4.6 s instead of 50 ms at 10,000 units).
    at_rank = (
        select(
            ranked.c.variant,
            ranked.c.value.label("quantile"),
            ranked.c.position.label("rank"),
            ranked.c.total,
        )
        .where(_is_quantile_rank(ranked.c.position, ranked.c.total, level))
        .cte("quantile_at_rank")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    query = union_all(_summary_rows(values, at_rank), _window_rows(ranked, at_rank))
    summaries: dict[str, _Summary] = {}
    window: dict[tuple[str, int], float] = {}
    for row in connection.execute(query):
        if row.position is not None:
            window[row.variant, int(row.position)] = float(row.quantile)
            continue
        summaries[row.variant] = _Summary(
            units=int(row.units),
            quantile=None if row.quantile is None else float(row.quantile),
            indicator=IndicatorSums(
                clusters=int(row.clusters or 0),
                values=int(row._mapping["values"] or 0),
                below=float(row.below or 0.0),
                below_squares=float(row.below_squares or 0.0),
                cross=float(row.cross or 0.0),
                value_squares=float(row.value_squares or 0.0),
            ),
        )
    return summaries, window


def _summary_rows(values: CTE, at_rank: CTE) -> Select[Any]:
    """One row per variant: the sums of step 1, `position` NULL."""
    value = values.c.value
    per_unit = (
        select(
            values.c.variant,
            func.count(value).label("values"),
            func.sum(case((value <= at_rank.c.quantile, 1), else_=0)).label("below"),
            func.max(at_rank.c.quantile).label("quantile"),
        )
        .select_from(values.outerjoin(at_rank, values.c.variant == at_rank.c.variant))
        .group_by(values.c.variant, values.c.unit_id)
        .subquery("quantile_per_unit")
    )
    unit = per_unit.c
    return select(
        unit.variant,
        cast(null(), Integer).label("position"),
        func.count().label("units"),
        func.sum(unit["values"]).label("values"),
        func.sum(case((unit["values"] > 0, 1), else_=0)).label("clusters"),
        func.sum(cast(unit["values"] * unit["values"], Float)).label("value_squares"),
        func.sum(cast(unit.below, Float)).label("below"),
        func.sum(cast(unit.below * unit.below, Float)).label("below_squares"),
        func.sum(cast(unit.below * unit["values"], Float)).label("cross"),
        func.max(unit.quantile).label("quantile"),
    ).group_by(unit.variant)


def _window_rows(ranked: CTE, at_rank: CTE) -> Select[Any]:
    """One row per value ranked within `WINDOW` of its variant's quantile: its `position` and,
    in `quantile`, the value; the sums NULL."""
    distance = ranked.c.position - at_rank.c.rank
    reach = literal(WINDOW[0], Integer) * at_rank.c.total + literal(WINDOW[1], Integer)
    return (
        select(
            ranked.c.variant,
            ranked.c.position,
            *(cast(null(), kind).label(name) for name, kind in _SUM_COLUMNS),
            ranked.c.value.label("quantile"),
        )
        .select_from(ranked.join(at_rank, ranked.c.variant == at_rank.c.variant))
        .where(distance * distance <= reach)
    )


# The sums' columns in `_summary_rows`' order, typed as there (counts whole, the rest floats).
_SUM_COLUMNS = (
    ("units", Integer), ("values", Integer), ("clusters", Integer), ("value_squares", Float),
    ("below", Float), ("below_squares", Float), ("cross", Float),
)  # fmt: skip


def _is_quantile_rank(position: Any, total: Any, level: float) -> ColumnElement[bool]:
    """Whether `position` is `stats.quantiles.quantile_rank(level, total)`: ceil(level total -
    1e-9), at least 1 and at most `total`, spelled without CEIL (SQLite may lack it). The
    product is the same double in SQL as in Python, so the rank is the same."""
    estimate = literal(level, Float) * total - literal(RANK_SLACK, Float)
    return or_(
        and_(position >= estimate, position - 1 < estimate),
        and_(position == 1, estimate <= 0),
        and_(position == total, estimate > total),
    )


def _order_statistics(
    connection: Connection, values: CTE, ranks: Ranks
) -> dict[tuple[str, int], float]:
    """The value at each 1-based rank of each variant's values in ascending order."""
    wanted = [(key, rank) for key, found in ranks.items() for rank in found]
    if not wanted:
        return {}
    position = func.row_number().over(partition_by=values.c.variant, order_by=values.c.value)
    ranked = (
        select(values.c.variant, values.c.value, position.label("position"))
        .where(values.c.value.is_not(None))
        .subquery("quantile_ranked")
    )
    query = select(ranked.c.variant, ranked.c.position, ranked.c.value).where(
        or_(*(and_(ranked.c.variant == key, ranked.c.position == rank) for key, rank in wanted))
    )
    return {(row.variant, int(row.position)): float(row.value) for row in connection.execute(query)}


def quantiles_json(quantiles: Mapping[str, Mapping[str, QuantileSums]]) -> dict[str, Any]:
    """The stored form of a look's quantile summaries (docs/results.md): `{"quantiles": {metric:
    {variant: {level, units, quantile, lower, upper, clusters, values, below, below_squares,
    cross, value_squares}}}}`, nothing without a quantile metric (older looks keep their form)."""
    if not quantiles:
        return {}
    return {
        "quantiles": {
            key: {
                variant: {
                    **{name: value for name, value in arm._asdict().items() if name != "indicator"},
                    **arm.indicator._asdict(),
                }
                for variant, arm in arms.items()
            }
            for key, arms in quantiles.items()
        }
    }
